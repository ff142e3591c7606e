import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/support/cli.ts';
import { type TempLake, tempLake } from '../test/support/lake.ts';

const DIR = path.join(import.meta.dirname, 'queries');
const PARAMS: Record<string, string[]> = {
  'best-deals.sql': ['-p', 'd:date=2026-11-22'],
  'quarantine-by-feed.sql': ['-p', 'since:date=2026-11-20'],
  'pipeline-health.sql': [],
};

describe('notebook queries run against a real lake', () => {
  let t: TempLake;
  beforeAll(async () => {
    t = tempLake();
    const r = await runCli([
      '--lake',
      t.root,
      '--log-level',
      'silent',
      'nightly',
      '--date',
      '2026-11-22',
      '--sample',
      '--raw-deals',
      '3000',
      '--days',
      '3',
      '--products',
      '800',
    ]);
    expect(r.code, r.err).toBe(0);
  }, 120_000);
  afterAll(() => t.cleanup());

  it.each(readdirSync(DIR).filter((f) => f.endsWith('.sql')))('%s returns rows', async (file) => {
    const r = await runCli([
      '--lake',
      t.root,
      'query',
      '--file',
      path.join(DIR, file),
      ...(PARAMS[file] ?? []),
      '--format',
      'json',
    ]);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as unknown[]).length).toBeGreaterThan(0);
  });
});
