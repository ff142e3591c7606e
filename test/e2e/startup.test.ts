import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSample } from '../../samples/index.ts';
import { type TempLake, tempLake } from '../support/lake.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const HEAVY = {
  'the AWS SDK': /\/node_modules\/@aws-sdk\//,
  kafkajs: /\/node_modules\/kafkajs\//,
  OpenSearch: /\/node_modules\/@opensearch-project\//,
  DuckDB: /\/node_modules\/@duckdb\//,
};

/** Runs bin/dealctl.mjs in a child process and returns the module URLs it resolved. */
function modulesLoadedBy(args: string[]): { code: number | null; out: string; modules: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'dealctl-imports-'));
  const file = path.join(dir, 'imports.txt');
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        path.join(REPO, 'test', 'support', 'record-imports.mjs'),
        path.join(REPO, 'bin', 'dealctl.mjs'),
        ...args,
      ],
      {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, RECORD_IMPORTS_FILE: file, DEALFINDER_LOG_LEVEL: 'silent' },
      },
    );
    return { code: r.status, out: r.stdout, modules: readFileSync(file, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const heavyIn = (modules: string[]) =>
  Object.entries(HEAVY)
    .filter(([, re]) => modules.some((m) => re.test(m)))
    .map(([name]) => name);

describe('dealctl loads only what the command needs', () => {
  let t: TempLake;
  beforeAll(async () => {
    t = tempLake();
    await seedSample(t, { endDate: '2026-11-22', days: 1, rawDealsPerDay: 50, products: 20, seed: 1 });
  }, 60_000);
  afterAll(() => t.cleanup());

  it('`dealctl --help` imports no AWS SDK, kafkajs, OpenSearch or DuckDB', () => {
    const r = modulesLoadedBy(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: dealctl');
    expect(r.modules.some((m) => m.includes('commander'))).toBe(true);
    expect(heavyIn(r.modules)).toEqual([]);
  });

  it('`dealctl nightly` on DuckDB loads no AWS SDK, kafkajs or OpenSearch (only EMR runs do)', () => {
    const help = modulesLoadedBy(['nightly', '--help']);
    expect(help.code).toBe(0);
    expect(heavyIn(help.modules)).toEqual(['DuckDB']);
    const run = modulesLoadedBy(['--lake', t.root, 'nightly', '--date', '2026-11-22', '--only', 'cleanup']);
    expect(run.code).toBe(0);
    expect(heavyIn(run.modules)).toEqual(['DuckDB']);
  }, 60_000);

  it('`dealctl query` loads DuckDB but no AWS SDK, kafkajs or OpenSearch', () => {
    const r = modulesLoadedBy([
      '--lake',
      t.root,
      'query',
      'SELECT count(*) AS n FROM raw_deals',
      '--format',
      'csv',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('n');
    expect(heavyIn(r.modules)).toEqual(['DuckDB']);
  });
});
