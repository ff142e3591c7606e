import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { VectorStoreFlag } from './switch.ts';
import { VectorStoreRouter } from './vector-store.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vector-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flag = (over: Partial<VectorStoreFlag> = {}): VectorStoreFlag => ({
  backend: 'chroma',
  shadow: false,
  opensearch: null,
  // No Chroma store there: queries must fail loudly.
  chroma: { location: path.join(dir, 'no-store'), collection: 'products' },
  migration: 'm',
  at: '2026-11-23T00:00:00Z',
  ...over,
});

describe('VectorStoreRouter', () => {
  it('refuses a missing, malformed or foreign flag file with vector-store-flag-invalid', () => {
    const file = path.join(dir, 'bad.json');
    expect(() => VectorStoreRouter.open({ flagFile: path.join(dir, 'none.json') })).toThrow(
      expect.objectContaining({ code: 'vector-store-flag-invalid' }),
    );
    writeFileSync(file, '{"backend": "chroma"');
    expect(() => VectorStoreRouter.open({ flagFile: file })).toThrow(/cannot read the vector-store flag/);
    writeFileSync(file, JSON.stringify({ backend: 'redis' }));
    expect(() => VectorStoreRouter.open({ flagFile: file })).toThrow(/is not a vector-store flag/);
  });

  it('follows a changed flag file and keeps the last good one when it is half-written', () => {
    const file = path.join(dir, 'flag.json');
    writeFileSync(file, JSON.stringify(flag()));
    const router = VectorStoreRouter.open({ flagFile: file, reloadMs: 0 });
    expect(router.current().backend).toBe('chroma');
    writeFileSync(
      file,
      JSON.stringify(
        flag({ backend: 'opensearch', opensearch: { url: 'http://127.0.0.1:9', alias: 'p', index: 'p-v1' } }),
      ),
    );
    expect(router.current().backend).toBe('opensearch');
    writeFileSync(file, '{"backend": "chr');
    expect(router.current().backend).toBe('opensearch');
  });

  it('passes a failure of the serving store to the caller and counts nothing as served', async () => {
    const file = path.join(dir, 'down.json');
    writeFileSync(file, JSON.stringify(flag({ shadow: true })));
    const router = VectorStoreRouter.open({ flagFile: file, python: path.join(dir, 'no-python') });
    await expect(router.nearest(Float32Array.from([1, 2]), 3)).rejects.toThrow(/no chroma\.sqlite3/);
    // The store appears: the next query opens it again (a cached failure would repeat the first
    // message); here it gets as far as starting the reader, which has no Python to run.
    mkdirSync(path.join(dir, 'no-store'), { recursive: true });
    writeFileSync(path.join(dir, 'no-store', 'chroma.sqlite3'), '');
    await expect(router.nearest(Float32Array.from([1, 2]), 3)).rejects.toThrow(/cannot run .*no-python/);
    expect(router.stats()).toMatchObject({ served: { chroma: 0, opensearch: 0 }, shadowed: 0 });
    await router.close();
  });
});
