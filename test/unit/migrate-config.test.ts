/**
 * `dealctl migrate` takes its defaults from the `migration` config section (file, then
 * DEALFINDER_MIGRATION_* variables); a flag on the command line wins.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/index.ts';

let dir: string;
const saved = { ...process.env };
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'migrate-config-'));
  process.env.DEALFINDER_LOG_LEVEL = 'silent';
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => {
    o += d;
  });
  err.on('data', (d) => {
    e += d;
  });
  const code = await main(['node', 'dealctl', ...argv], { out, err });
  return { code, out: o, err: e };
}

describe('migrate and the migration config section', () => {
  it('uses migration.alias from the config file and from DEALFINDER_MIGRATION_ALIAS; --alias wins', async () => {
    const lake = path.join(dir, 'lake');
    const file = path.join(dir, 'dealfinder.config.json');
    writeFileSync(file, JSON.stringify({ migration: { alias: 'from-file' } }));
    const fromFile = await run(['--lake', lake, '-c', file, 'migrate', 'status']);
    expect(fromFile.out).toContain(path.join(lake, '_migrations', 'from-file'));
    process.env.DEALFINDER_MIGRATION_ALIAS = 'from-env';
    const fromEnv = await run(['--lake', lake, '-c', file, 'migrate', 'status']);
    expect(fromEnv.out).toContain(path.join(lake, '_migrations', 'from-env'));
    const fromFlag = await run(['--lake', lake, '-c', file, 'migrate', 'status', '--alias', 'from-flag']);
    expect(fromFlag.out).toContain(path.join(lake, '_migrations', 'from-flag'));
  });

  it('reports a bad migration key as a configuration error (exit 5)', async () => {
    process.env.DEALFINDER_MIGRATION_BATCH_SIZE = '0';
    const r = await run(['--lake', path.join(dir, 'lake'), 'migrate', 'status']);
    expect(r.code).toBe(5);
    expect(r.err).toMatch(
      /error\[config-invalid\]: invalid configuration \(1 problem\): DEALFINDER_MIGRATION_BATCH_SIZE \(migration\.batchSize\)/,
    );
  });
});
