import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config.ts';
import { Lake, TABLES } from '../core/lake.ts';
import { field, type RecordDef } from '../schemas/index.ts';
import { configParams, type FingerprintParts, planFingerprint, planJob, sqlParams } from './plan.ts';
import { jobByName, selectJobs } from './registry.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const config = loadConfig({ env: {}, overrides: { lake: { root } } });
const lake = new Lake(root);
const ctx = { lake, config, runId: 'r1', runDate: '2026-11-22' };

/** The parts planJob hashes for `job`, so each can be changed alone. */
function partsOf(name: string): FingerprintParts {
  const job = jobByName(name);
  const plan = planJob(job, ctx);
  return {
    job,
    statements: plan.statements,
    params: plan.params,
    macros: plan.macros,
    inputs: plan.inputs,
    outputSchemas: Object.fromEntries(job.outputs.map((o) => [o.statement, TABLES[o.table].record])),
    inputFiles: [],
  };
}

describe('step fingerprint', () => {
  it('is what planJob records, and ignores the run id', () => {
    const cleanup = jobByName('cleanup');
    expect(planJob(cleanup, ctx).fingerprint).toBe(planFingerprint(partsOf('cleanup')));
    expect(planJob(cleanup, { ...ctx, runId: 'r2' }).fingerprint).toBe(planJob(cleanup, ctx).fingerprint);
  });

  it('changes when an output schema in schemas/ changes (old-schema Parquet is not up to date)', () => {
    const parts = partsOf('enrichment');
    const before = planFingerprint(parts);
    const record = TABLES.enriched_deals.record;
    const widened: RecordDef = {
      ...record,
      fields: { ...record.fields, new_column: field.string('Added in a schema upgrade.').nullable_() },
    };
    expect(planFingerprint({ ...parts, outputSchemas: { enriched_deals: widened } })).not.toBe(before);
    const retyped: RecordDef = {
      ...record,
      fields: { ...record.fields, price: field.string('Was a double.') },
    };
    expect(planFingerprint({ ...parts, outputSchemas: { enriched_deals: retyped } })).not.toBe(before);
  });

  it('changes with the job code version, the SQL, a parameter and an input file', () => {
    const parts = partsOf('cleanup');
    const before = planFingerprint(parts);
    expect(planFingerprint({ ...parts, job: { ...parts.job, version: 2 } })).not.toBe(before);
    expect(
      planFingerprint({
        ...parts,
        statements: parts.statements.map((s, i) => (i === 0 ? { ...s, sql: `${s.sql} ` } : s)),
      }),
    ).not.toBe(before);
    expect(
      planFingerprint({
        ...parts,
        params: { ...parts.params, max_plausible_price: { type: 'DOUBLE', value: 1 } },
      }),
    ).not.toBe(before);
    expect(planFingerprint({ ...parts, inputFiles: [{ path: '/x.parquet', size: 1, mtimeMs: 2 }] })).not.toBe(
      before,
    );
    expect(planFingerprint({ ...parts })).toBe(before);
  });
});

describe('job selection and parameters', () => {
  it('an unknown job in --only is a usage error (exit 2), on every engine', () => {
    expect(() => selectJobs(['cleanup', 'nope'])).toThrow(
      expect.objectContaining({
        code: 'job-unknown',
        exitCode: 2,
        message: expect.stringMatching(/^unknown job nope; jobs: cleanup, /),
      }),
    );
    expect(() => jobByName('nope')).toThrow(
      expect.objectContaining({ code: 'job-unknown', category: 'usage' }),
    );
    expect(selectJobs(['features', 'cleanup']).map((j) => j.name)).toEqual(['cleanup', 'features']);
    expect(selectJobs().map((j) => j.name)).toEqual(['cleanup', 'enrichment', 'price_trends', 'features']);
  });

  it('one config → parameter mapping for jobs and streaming rules', () => {
    expect(sqlParams(config, '2026-11-22', 'stream')).toEqual({
      run_date: { type: 'DATE', value: '2026-11-22' },
      run_id: { type: 'VARCHAR', value: 'stream' },
      ...configParams(config),
    });
    const plan = planJob(jobByName('cleanup'), ctx);
    expect(plan.params.max_plausible_price).toEqual(configParams(config).max_plausible_price);
  });
});
