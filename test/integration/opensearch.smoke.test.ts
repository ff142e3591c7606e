/**
 * Smoke test of the real OpenSearch + k-NN service: knn_vector mappings on the lucene engine,
 * a 1,000-vector bulk load, and a k-NN query that must return the nearest vector first.
 *
 * The faiss/nmslib engines are deliberately absent: the k-NN zip on Maven Central has no native
 * libraries, and the first document written to a faiss index (faiss is also the default when a
 * mapping gives no `method`) kills the node (see docs/services/opensearch.md).
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { servicesFor } from '../services/index.js';
import { KNN_VERSION, OPENSEARCH_VERSION } from '../services/opensearch.js';

const svc = await servicesFor('opensearch');
// The node is shared by the whole run (and may be a `services -- up` instance): unique index names.
const run = randomUUID().slice(0, 8);

/** Deterministic unit vectors (mulberry32), so failures reproduce. */
function makeVectors(count: number, dimension: number, seed: number): number[][] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const v = Array.from({ length: dimension }, () => random() * 2 - 1);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

function nudge(vector: number[], amount: number): number[] {
  return vector.map((x, i) => x + (i % 2 === 0 ? amount : -amount));
}

const l2 = (a: number[], b: number[]) => Math.hypot(...a.map((x, i) => x - (b[i] as number)));

svc.describe('opensearch + k-NN (real service)', () => {
  let client: Client;

  beforeAll(() => {
    client = new Client({ node: svc.env.OPENSEARCH_URL as string });
  });

  afterAll(async () => {
    await client?.close();
  });

  it(`is OpenSearch ${OPENSEARCH_VERSION} with k-NN ${KNN_VERSION}, bound to 127.0.0.1`, async () => {
    expect(svc.env.OPENSEARCH_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const info = await client.info();
    expect(info.body.version.number).toBe(OPENSEARCH_VERSION);
    const plugins = await client.cat.plugins({ format: 'json' });
    const knn = (plugins.body as unknown as Array<{ component: string; version: string }>).find(
      (p) => p.component === 'opensearch-knn',
    );
    expect(knn?.version).toBe(KNN_VERSION);
    const nodes = await client.nodes.info({ metric: ['http', 'transport'] });
    const node = Object.values(nodes.body.nodes)[0] as unknown as {
      http: { publish_address: string; bound_address: string[] };
      transport: { publish_address: string; bound_address: string[] };
    };
    for (const section of [node.http, node.transport]) {
      expect(section.publish_address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(section.bound_address.every((a) => /^(127\.0\.0\.1|\[::1\]):\d+$/.test(a))).toBe(true);
    }
    const health = await client.cluster.health();
    expect(['green', 'yellow']).toContain(health.body.status);
  });

  async function loadAndQuery(opts: {
    index: string;
    dimension: number;
    space: 'l2' | 'cosinesimil';
    seed: number;
  }) {
    const { index, dimension, space } = opts;
    await client.indices.create({
      index,
      body: {
        settings: { index: { knn: true, number_of_shards: 1, number_of_replicas: 0 } },
        mappings: {
          properties: {
            deal_id: { type: 'keyword' },
            embedding: {
              type: 'knn_vector',
              dimension,
              method: {
                name: 'hnsw',
                engine: 'lucene',
                space_type: space,
                parameters: { m: 16, ef_construction: 100 },
              },
            },
          },
        },
      },
    });
    const vectors = makeVectors(1_000, dimension, opts.seed);
    const body = vectors.flatMap((embedding, i) => [
      { index: { _index: index, _id: `deal-${i}` } },
      { deal_id: `deal-${i}`, embedding },
    ]);
    const bulk = await client.bulk({ body, refresh: true });
    expect(bulk.body.errors).toBe(false);
    const count = await client.count({ index });
    expect(count.body.count).toBe(1_000);

    for (const target of [7, 512, 999]) {
      const query = nudge(vectors[target] as number[], 0.001);
      const result = await client.search({
        index,
        body: { size: 5, _source: ['deal_id'], query: { knn: { embedding: { vector: query, k: 5 } } } },
      });
      const hits = result.body.hits.hits;
      expect(hits.length).toBe(5);
      expect(hits[0]?._id).toBe(`deal-${target}`);
      // Scores are ordered and the first really is the nearest among the returned ones.
      const scores = hits.map((h) => h._score as number);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      const distances = hits.map((h) => l2(query, vectors[Number(String(h._id).slice(5))] as number[]));
      expect(Math.min(...distances)).toBe(distances[0]);
    }
    await client.indices.delete({ index });
  }

  it('lucene engine, dimension 16, l2: bulk 1,000 vectors and find the nearest first', async () => {
    await loadAndQuery({ index: `smoke-knn-16-${run}`, dimension: 16, space: 'l2', seed: 16 });
  });

  it('lucene engine, dimension 384, cosine: bulk 1,000 vectors and find the nearest first', async () => {
    await loadAndQuery({ index: `smoke-knn-384-${run}`, dimension: 384, space: 'cosinesimil', seed: 384 });
  });
});
