import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bulkIndex } from './load.ts';
import type { VectorRow } from './records.ts';
import { indexBody, OpenSearch } from './target.ts';

describe('indexBody', () => {
  it.each([
    ['l2', 'l2'],
    ['cosine', 'cosinesimil'],
    ['ip', 'innerproduct'],
  ] as const)('maps Chroma %s to space_type %s with an explicit engine', (space, spaceType) => {
    const b = indexBody({
      dimension: 384,
      space,
      engine: 'lucene',
      shards: 1,
      m: 16,
      efConstruction: 100,
    }) as {
      settings: { index: Record<string, unknown> };
      mappings: { dynamic: string; properties: Record<string, Record<string, unknown>> };
    };
    expect(b.settings.index).toEqual({
      knn: true,
      number_of_shards: 1,
      number_of_replicas: 0,
      refresh_interval: '-1',
    });
    expect(b.mappings.dynamic).toBe('strict');
    expect(b.mappings.properties.embedding).toEqual({
      type: 'knn_vector',
      dimension: 384,
      method: {
        name: 'hnsw',
        engine: 'lucene',
        space_type: spaceType,
        parameters: { m: 16, ef_construction: 100 },
      },
    });
    expect(Object.keys(b.mappings.properties).sort()).toEqual([
      'category',
      'document',
      'embedding',
      'id',
      'metadata',
      'price',
    ]);
  });
});

/**
 * The real OpenSearch cannot be made to answer 429 on demand: this local server plays a
 * throttled node (whole-request 429, then per-item 429 and a mapping error).
 */
describe('bulkIndex against a throttling node', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('retries 429 requests and items, and reports permanent item failures', async () => {
    let calls = 0;
    const seen: string[][] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        calls++;
        const ids = body
          .split('\n')
          .filter((l) => l.startsWith('{"index"'))
          .map((l) => JSON.parse(l).index._id as string);
        seen.push(ids);
        res.setHeader('content-type', 'application/json');
        if (calls === 1) {
          res.statusCode = 429;
          res.end('{"error":"too many requests"}');
          return;
        }
        const items = ids.map((id) => {
          if (calls === 2 && id === 'b')
            return {
              index: {
                _id: id,
                status: 429,
                error: { type: 'es_rejected_execution_exception', reason: 'queue full' },
              },
            };
          if (id === 'c')
            return {
              index: { _id: id, status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad' } },
            };
          return { index: { _id: id, status: 201 } };
        });
        res.end(JSON.stringify({ errors: items.some((i) => i.index.status >= 300), items }));
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const os = new OpenSearch(url, { retries: 3, minDelayMs: 5, maxDelayMs: 20 });
    const doc = (id: string): VectorRow => ({
      id,
      document: null,
      category: 'X',
      price: 1,
      metadata: '{}',
      embedding: Float32Array.from([1, 2]),
    });
    const stats = { requests: 0, itemRetries: 0, pressure: 0 };
    const r = await bulkIndex(
      os,
      'idx',
      [doc('a'), doc('b'), doc('c')],
      { retries: 3, minDelayMs: 5, maxDelayMs: 20 },
      stats,
    );
    expect(r.indexed).toBe(2);
    expect(r.failed).toEqual([{ id: 'c', status: 400, type: 'mapper_parsing_exception', reason: 'bad' }]);
    expect(seen).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['b']]);
    expect(os.retries).toBe(1);
    expect(stats.itemRetries).toBe(1);
    expect(stats.pressure).toBeGreaterThanOrEqual(2);
  });

  it('records a document id over 512 bytes as a failure instead of sending it (OpenSearch would refuse the whole request)', async () => {
    const seen: string[][] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const ids = body
          .split('\n')
          .filter((l) => l.startsWith('{"index"'))
          .map((l) => JSON.parse(l).index._id as string);
        seen.push(ids);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ errors: false, items: ids.map((id) => ({ index: { _id: id, status: 201 } })) }),
        );
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const os = new OpenSearch(url, { retries: 1, minDelayMs: 1, maxDelayMs: 2 });
    const doc = (id: string): VectorRow => ({
      id,
      document: null,
      category: 'X',
      price: 1,
      metadata: '{}',
      embedding: Float32Array.from([1, 2]),
    });
    const long = 'é'.repeat(300); // 600 bytes in UTF-8, 300 characters
    const r = await bulkIndex(
      os,
      'idx',
      [doc('a'), doc(long), doc('b')],
      { retries: 1, minDelayMs: 1, maxDelayMs: 2 },
      {
        requests: 0,
        itemRetries: 0,
        pressure: 0,
      },
    );
    expect(seen).toEqual([['a', 'b']]);
    expect(r.indexed).toBe(2);
    expect(r.failed).toEqual([
      {
        id: long,
        status: 400,
        type: 'id_too_long',
        reason: expect.stringMatching(/600 bytes; OpenSearch accepts at most 512/),
      },
    ]);
  });
});
