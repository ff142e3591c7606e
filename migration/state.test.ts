import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DealFinderError } from '../core/errors.ts';
import { MigrationBusyError } from './errors.ts';
import { type MigrationParams, StateStore } from './state.ts';

const params: MigrationParams = {
  source: { location: '/src', collection: 'products', tenant: 't', database: 'd' },
  target: {
    url: 'http://127.0.0.1:9200',
    alias: 'products',
    engine: 'lucene',
    shards: 1,
    replicas: 0,
    refreshInterval: '1s',
  },
  batchSize: 100,
  expectedDimension: null,
};

describe('StateStore lock (proper-lockfile)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mig-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second migration on the same state directory with migration-busy, until released', async () => {
    const first = StateStore.openOrCreate(dir, params);
    const second = StateStore.openOrCreate(dir, params);
    await first.lock();
    const refused = await second.lock(2_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MigrationBusyError);
    expect(refused).toMatchObject({ code: 'migration-busy', retryable: true, exitCode: 1 });
    expect((refused as DealFinderError).message).toContain(dir);
    expect((refused as DealFinderError).hint).toMatch(/wait for it to finish/);
    first.unlock();
    await second.lock(2_000);
    second.unlock();
  }, 20_000);

  it('takes over the lock of a killed holder once it is stale', async () => {
    // What a SIGKILLed holder leaves: the lock directory, no longer refreshed.
    const lockDir = path.join(dir, 'migration.lock');
    mkdirSync(lockDir, { recursive: true });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockDir, old, old);
    const store = StateStore.openOrCreate(dir, params);
    const started = Date.now();
    await store.lock(2_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    store.unlock();
  });

  it('keeps refusing another migration in the same directory (different source)', () => {
    StateStore.openOrCreate(dir, params);
    expect(() =>
      StateStore.openOrCreate(dir, { ...params, source: { ...params.source, location: '/other' } }),
    ).toThrow(/belongs to another migration \(source \/src\)/);
  });
});
