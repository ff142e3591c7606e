import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigWarning, ENV_OVERRIDES, loadConfig, readConfig } from './config.ts';
import { ConfigError } from './errors.ts';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(path.join(os.tmpdir(), 'config-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const problemsOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
};

describe('loadConfig', () => {
  it('reports every problem at once: file values, schema violations and bad variables', () => {
    writeFileSync(
      path.join(cwd, 'dealfinder.config.json'),
      JSON.stringify({ duckdb: { threads: 0 }, jobs: { maxPlausiblePrice: -1 }, nosuch: {} }),
    );
    const error = problemsOf(() =>
      loadConfig({
        cwd,
        env: {
          DEALFINDER_PIPELINE_RETRIES: 'two',
          DEALFINDER_GLUE_ENABLED: 'maybe',
          DEALFINDER_AWS_REGION: '',
        },
      }),
    );
    const paths = error.problems.map((p) => p.path).sort();
    expect(paths).toEqual([
      '',
      'duckdb.threads',
      'glue.enabled',
      'jobs.maxPlausiblePrice',
      'pipeline.retries',
    ]);
    expect(error.problems.find((p) => p.path === 'pipeline.retries')).toMatchObject({
      source: 'DEALFINDER_PIPELINE_RETRIES',
      message: '"two" is not a number',
    });
    expect(error.message).toMatch(/^invalid configuration \(5 problems\): /);
    expect(error.message).toContain('DEALFINDER_GLUE_ENABLED (glue.enabled)');
    expect(error.code).toBe('config-invalid');
    expect(error.exitCode).toBe(5);
    expect(error.details.problems).toHaveLength(5);
  });

  it('names the variable when an override breaks a schema rule', () => {
    const error = problemsOf(() => loadConfig({ cwd, env: { DEALFINDER_DUCKDB_THREADS: '1000' } }));
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'duckdb.threads', source: 'DEALFINDER_DUCKDB_THREADS' }),
    ]);
  });

  it('reports an unparseable file together with bad variables', () => {
    writeFileSync(path.join(cwd, 'dealfinder.config.json'), '{ not json');
    const error = problemsOf(() => loadConfig({ cwd, env: { DEALFINDER_DUCKDB_THREADS: 'x' } }));
    expect(error.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^cannot parse/),
      '"x" is not a number',
    ]);
    expect(() => loadConfig({ cwd, env: { DEALFINDER_CONFIG: 'missing.json' } })).toThrow(/does not exist/);
  });
});

describe('environment overrides derived from the schema', () => {
  it('covers every leaf key, including the 21 variables of the old hand list', () => {
    const names = new Set(ENV_OVERRIDES.map((o) => o.variable));
    for (const old of [
      'DEALFINDER_LAKE_ROOT',
      'DEALFINDER_DUCKDB_MEMORY_LIMIT',
      'DEALFINDER_DUCKDB_THREADS',
      'DEALFINDER_DUCKDB_TEMP_DIRECTORY',
      'DEALFINDER_JOBS_MAX_PLAUSIBLE_PRICE',
      'DEALFINDER_PIPELINE_RETRIES',
      'DEALFINDER_STREAMING_BROKERS',
      'DEALFINDER_STREAMING_TOPIC_PREFIX',
      'DEALFINDER_STREAMING_INSTANCE_ID',
      'DEALFINDER_STREAMING_STATE_DIR',
      'DEALFINDER_STREAMING_METRICS_PORT',
      'DEALFINDER_AWS_REGION',
      'DEALFINDER_AWS_ENDPOINT',
      'DEALFINDER_AWS_BUCKET',
      'DEALFINDER_AWS_PREFIX',
      'DEALFINDER_EMR_EXISTING_CLUSTER_ID',
      'DEALFINDER_EMR_LOG_URI',
      'DEALFINDER_GLUE_DATABASE',
      'DEALFINDER_SPARK_SUBMIT',
      'DEALFINDER_SPARK_MASTER',
      'DEALFINDER_SPARK_DRIVER_MEMORY',
      // the migration's variables the CLI already documents
      'DEALFINDER_MIGRATION_SOURCE',
      'DEALFINDER_MIGRATION_TARGET',
      'DEALFINDER_MIGRATION_STATE',
    ])
      expect(names, old).toContain(old);
    expect(ENV_OVERRIDES.length).toBeGreaterThan(100);
  });

  it('parses nested paths, numbers, booleans, enums, arrays and records by the key type', () => {
    const config = loadConfig({
      cwd,
      env: {
        DEALFINDER_DQ_COMPLETENESS_MIN: '0.9',
        DEALFINDER_DQ_FRESHNESS_SEVERITY: 'fail',
        DEALFINDER_STREAMING_SCANNER_TIMEOUT_MS: '2500',
        DEALFINDER_STREAMING_RETRY_ATTEMPTS: '5',
        DEALFINDER_GLUE_ENABLED: 'false',
        DEALFINDER_AWS_FORCE_PATH_STYLE: 'true',
        DEALFINDER_AWS_RETRY_MODE: 'standard',
        DEALFINDER_EMR_SUBNET_IDS: '["subnet-1","subnet-2"]',
        DEALFINDER_EMR_TAGS: '{"team":"deals"}',
        DEALFINDER_STREAMING_PRICE_WEIGHTS: '{"knn":0.5}',
        DEALFINDER_MIGRATION_DIMENSION: 'any',
        DEALFINDER_MIGRATION_RETRY_RETRIES: '2',
        DEALFINDER_LAKE_ROOT: 'elsewhere',
      },
    });
    expect(config.dq.completeness.min).toBe(0.9);
    expect(config.dq.completeness.severity).toBe('fail');
    expect(config.dq.freshness.severity).toBe('fail');
    expect(config.streaming.scanner.timeoutMs).toBe(2500);
    expect(config.streaming.scanner.intervalSeconds).toBe(300);
    expect(config.streaming.retry).toEqual({ attempts: 5, initialDelayMs: 200, maxDelayMs: 5000 });
    expect(config.glue.enabled).toBe(false);
    expect(config.aws.forcePathStyle).toBe(true);
    expect(config.aws.retryMode).toBe('standard');
    expect(config.emr.subnetIds).toEqual(['subnet-1', 'subnet-2']);
    expect(config.emr.tags).toEqual({ team: 'deals' });
    expect(config.streaming.price.weights).toEqual({ knn: 0.5 });
    expect(config.migration.dimension).toBe('any');
    expect(config.migration.retry).toEqual({ retries: 2, minDelayMs: 200, maxDelayMs: 10_000 });
    expect(config.lake.root).toBe(path.join(cwd, 'elsewhere'));
    expect(loadConfig({ cwd, env: { DEALFINDER_MIGRATION_DIMENSION: '768' } }).migration.dimension).toBe(768);
  });

  it('lets flags override variables, and variables the file', () => {
    writeFileSync(
      path.join(cwd, 'dealfinder.config.json'),
      JSON.stringify({ duckdb: { threads: 3, memoryLimit: '1GB' } }),
    );
    const config = loadConfig({
      cwd,
      env: { DEALFINDER_DUCKDB_THREADS: '4' },
      overrides: { duckdb: { memoryLimit: '3GB' } },
    });
    expect(config.duckdb).toMatchObject({ threads: 4, memoryLimit: '3GB' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('warns about an unknown DEALFINDER_* variable without failing; process variables are known', () => {
    const warnings: ConfigWarning[] = [];
    const config = loadConfig({
      cwd,
      env: {
        DEALFINDER_DUCKDB_THREAD: '4', // a typo
        DEALFINDER_LOG_LEVEL: 'silent',
        DEALFINDER_CACHE_DIR: '/tmp/x',
        DEALFINDER_RUN_ID: 'r1',
        DEALFINDER_KEEP_SERVICES: '1',
        DEALFINDER_NOW: '2026-11-23T06:00:00Z',
        DEALFINDER_CONFIG: '',
        OTHER_VARIABLE: 'x',
      },
      onWarning: (w) => warnings.push(w),
    });
    expect(config.duckdb.threads).toBe(2);
    expect(warnings).toEqual([
      {
        variable: 'DEALFINDER_DUCKDB_THREAD',
        message: expect.stringMatching(
          /not a config variable and is ignored \(did you mean DEALFINDER_DUCKDB_THREADS\?/,
        ),
      },
    ]);
    expect(readConfig({ cwd, env: { DEALFINDER_NOPE: '1' } }).warnings.map((w) => w.variable)).toEqual([
      'DEALFINDER_NOPE',
    ]);
  });
});
