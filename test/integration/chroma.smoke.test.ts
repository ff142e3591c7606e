/**
 * ChromaDB from TypeScript over its v2 HTTP API (plain fetch), with collections
 * written by Python chromadb:
 *  - through the running server (HttpClient);
 *  - into a PersistentClient directory, then served by `chroma run --path <dir>`,
 *    both below the HNSW flush threshold (vectors only in sqlite's embeddings_queue)
 *    and above it (HNSW files hold the first 1,000).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromaFixtureRecord, startChromaServer, writeChromaFixture } from '../services/chroma.js';
import { servicesFor } from '../services/index.js';
import { killProcesses, processRef } from '../services/process.js';

const svc = await servicesFor('chroma');
/** Scratch folder for the PersistentClient directories and their one-off servers. */
let work = '';
/** The chroma server is shared by the whole run (and may be a `services -- up` instance): unique collection name. */
const COLLECTION = `products_${randomUUID().slice(0, 8)}`;
const TENANT_DB = '/api/v2/tenants/default_tenant/databases/default_database';

interface ChromaCollection {
  id: string;
  name: string;
  dimension: number | null;
  metadata: Record<string, unknown> | null;
  configuration_json: { hnsw?: { space?: string; sync_threshold?: number } | null };
}
interface GetResult {
  ids: string[];
  embeddings: number[][] | null;
  documents: (string | null)[] | null;
  metadatas: (Record<string, unknown> | null)[] | null;
}

async function api<T>(base: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${route}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

async function collectionByName(base: string, name: string): Promise<ChromaCollection> {
  const all = await api<ChromaCollection[]>(base, `${TENANT_DB}/collections`);
  const found = all.find((c) => c.name === name);
  if (!found) throw new Error(`no collection ${name} (have ${all.map((c) => c.name).join(', ')})`);
  return found;
}

/** Every record of a collection, paged like a migration reader would. */
async function getAll(base: string, collectionId: string, pageSize: number): Promise<GetResult> {
  const out: GetResult = { ids: [], embeddings: [], documents: [], metadatas: [] };
  for (let offset = 0, page = 0; page < 10_000; page++, offset += pageSize) {
    const part = await api<GetResult>(base, `${TENANT_DB}/collections/${collectionId}/get`, {
      limit: pageSize,
      offset,
      include: ['embeddings', 'metadatas', 'documents'],
    });
    out.ids.push(...part.ids);
    out.embeddings?.push(...(part.embeddings ?? []));
    out.documents?.push(...(part.documents ?? []));
    out.metadatas?.push(...(part.metadatas ?? []));
    if (part.ids.length < pageSize) break;
  }
  return out;
}

function expectRecords(result: GetResult, dim: number): void {
  result.ids.forEach((id, k) => {
    const i = Number(id.replace('doc_', ''));
    const want = chromaFixtureRecord(i, dim);
    expect(result.documents?.[k]).toBe(want.document);
    expect(result.metadatas?.[k]).toEqual(want.metadata);
    const got = result.embeddings?.[k] ?? [];
    expect(got).toHaveLength(dim);
    // Stored as float32.
    const maxDiff = got.reduce((max, v, j) => Math.max(max, Math.abs(v - (want.embedding[j] as number))), 0);
    expect(maxDiff).toBeLessThan(1e-6);
  });
}

svc.describe('chroma smoke (Python writes, TypeScript reads over HTTP)', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'dealfinder-chroma-smoke-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('answers heartbeat and version on 127.0.0.1', async () => {
    expect(svc.env.CHROMA_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const beat = await api<Record<string, number>>(svc.env.CHROMA_URL as string, '/api/v2/heartbeat');
    expect(beat['nanosecond heartbeat']).toBeGreaterThan(0);
    expect(await api<string>(svc.env.CHROMA_URL as string, '/api/v2/version')).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('reads back a collection Python wrote through the server', async () => {
    const base = svc.env.CHROMA_URL as string;
    const written = await writeChromaFixture({
      python: svc.env.CHROMA_PYTHON as string,
      url: base,
      collection: COLLECTION,
      count: 25,
      dim: 384,
    });
    expect(written.count).toBe(25);
    const collection = await collectionByName(base, COLLECTION);
    expect(collection.id).toBe(written.collection_id);
    expect(collection.dimension).toBe(384);
    expect(collection.configuration_json.hnsw?.space).toBe('cosine');
    expect(await api<number>(base, `${TENANT_DB}/collections/${collection.id}/count`)).toBe(25);

    const some = await api<GetResult>(base, `${TENANT_DB}/collections/${collection.id}/get`, {
      ids: ['doc_0', 'doc_7', 'doc_24'],
      include: ['embeddings', 'metadatas', 'documents'],
    });
    expect([...some.ids].sort()).toEqual(['doc_0', 'doc_24', 'doc_7']);
    expectRecords(some, 384);

    const filtered = await api<GetResult>(base, `${TENANT_DB}/collections/${collection.id}/get`, {
      where: { category: 'Toys' },
      include: ['metadatas'],
    });
    const toys = Array.from({ length: 25 }, (_, i) => chromaFixtureRecord(i, 1))
      .filter((r) => r.metadata.category === 'Toys')
      .map((r) => r.id);
    expect(toys.length).toBeGreaterThan(0);
    expect([...filtered.ids].sort()).toEqual(toys.sort());
    expect(filtered.metadatas?.every((m) => m?.category === 'Toys')).toBe(true);
    expect(filtered.embeddings).toBeNull();

    const nearest = await api<{ ids: string[][]; distances: number[][] }>(
      base,
      `${TENANT_DB}/collections/${collection.id}/query`,
      {
        query_embeddings: [chromaFixtureRecord(3, 384).embedding],
        n_results: 3,
        include: ['distances'],
      },
    );
    expect(nearest.ids[0]?.[0]).toBe('doc_3');
    expect(nearest.distances[0]?.[0]).toBeLessThan(1e-5);
  });

  for (const { count, label } of [
    { count: 30, label: 'below the HNSW sync threshold (vectors only in embeddings_queue)' },
    { count: 1_200, label: 'above it (first 1,000 in HNSW files, rest in embeddings_queue)' },
  ]) {
    it(`serves a PersistentClient directory written by Python, ${label}`, async () => {
      const dim = 16;
      const dir = path.join(work, `persistent-${count}`);
      const written = await writeChromaFixture({
        python: svc.env.CHROMA_PYTHON as string,
        path: dir,
        collection: COLLECTION,
        count,
        dim,
      });
      const layout = written.layout;
      if (!layout) throw new Error('no layout from chroma_fixture.py');
      console.log(
        `[chroma] ${count} records: rows ${JSON.stringify(layout.row_counts)}; hnsw ${JSON.stringify(layout.hnsw)}`,
      );
      expect(layout.files).toContain('chroma.sqlite3');
      expect(layout.tables).toEqual(
        expect.arrayContaining([
          'collections',
          'collection_metadata',
          'segments',
          'embeddings',
          'embedding_metadata',
          'embeddings_queue',
          'max_seq_id',
        ]),
      );
      expect(layout.row_counts.embeddings).toBe(count);
      const vectorSegment = layout.segments.find((s) => s.scope === 'VECTOR');
      const hnsw = vectorSegment ? layout.hnsw[vectorSegment.id] : undefined;
      expect(hnsw?.files).toEqual(
        expect.arrayContaining(['header.bin', 'data_level0.bin', 'length.bin', 'link_lists.bin']),
      );
      if (count < 1_000) {
        // Every vector is still only in the queue; the HNSW files exist but are empty.
        expect(layout.row_counts.embeddings_queue).toBe(count);
        expect(hnsw?.cur_element_count).toBe(0);
        expect(hnsw?.files).not.toContain('index_metadata.pickle');
      } else {
        expect(hnsw?.cur_element_count).toBeGreaterThanOrEqual(1_000);
        expect(hnsw?.files).toContain('index_metadata.pickle');
        expect(layout.row_counts.embeddings_queue).toBeLessThan(count);
      }

      const server = await startChromaServer({
        chromaBin: path.join(path.dirname(svc.env.CHROMA_PYTHON as string), 'chroma'),
        dataDir: dir,
        logFile: path.join(work, `server-${count}.log`),
        timeoutMs: 60_000,
      });
      const serverRef = processRef(server.pid);
      try {
        const collection = await collectionByName(server.url, COLLECTION);
        expect(await api<number>(server.url, `${TENANT_DB}/collections/${collection.id}/count`)).toBe(count);
        const all = await getAll(server.url, collection.id, 500);
        expect(new Set(all.ids).size).toBe(count);
        expectRecords(all, dim);
        const nearest = await api<{ ids: string[][] }>(
          server.url,
          `${TENANT_DB}/collections/${collection.id}/query`,
          {
            query_embeddings: [chromaFixtureRecord(count - 1, dim).embedding],
            n_results: 1,
            include: [],
          },
        );
        // Embeddings repeat with period 97 (i and i+97 are identical vectors).
        expect(Number(nearest.ids[0]?.[0]?.replace('doc_', '')) % 97).toBe((count - 1) % 97);
      } finally {
        await killProcesses([serverRef]);
      }
    });
  }
});
