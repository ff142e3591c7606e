import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.ts';
import { loadJobSql } from '../../job.ts';
import { MACROS, type MacroDef } from '../../macros.ts';
import type { JobPlan } from '../../plan.ts';
import { JOBS } from '../../registry.ts';
import { createEngine } from '../index.ts';
import {
  driverSubmitArgs,
  inlineSparkMacros,
  SPARK_RUNNER,
  SparkEngine,
  sparkPlanOf,
  sparkSettings,
} from './index.ts';

const TEST_MACROS: MacroDef[] = [
  {
    name: 'twice',
    params: [{ name: 'x', sparkType: 'DOUBLE' }],
    sparkReturns: 'DOUBLE',
    duckdb: 'x * 2',
    spark: 'x * 2',
    why: 'test',
  },
  {
    name: 'tag',
    params: [
      { name: 's', sparkType: 'STRING' },
      { name: 'suffix', sparkType: 'STRING' },
    ],
    sparkReturns: 'STRING',
    duckdb: "concat(s, '-s-', suffix)",
    spark: "concat(s, '-s-', suffix, upper(s))",
    why: 'test',
  },
];

describe('inlineSparkMacros (Spark 3.5 has no SQL functions)', () => {
  it('replaces a call by the body with typed arguments', () => {
    expect(inlineSparkMacros('SELECT twice(a.price) AS p FROM a', TEST_MACROS)).toBe(
      'SELECT (CAST((a.price) AS DOUBLE) * 2) AS p FROM a',
    );
  });

  it('leaves parameter names inside string literals and function names in the body alone', () => {
    expect(inlineSparkMacros("SELECT tag(t.s, 'x') FROM t", TEST_MACROS)).toBe(
      "SELECT (concat(CAST((t.s) AS STRING), '-s-', CAST(('x') AS STRING), upper(CAST((t.s) AS STRING)))) FROM t",
    );
  });

  it('expands nested calls, keeps commas and parentheses inside arguments and strings', () => {
    const sql = "SELECT tag(concat(a, ','), tag('(', twice(b))) FROM t";
    const out = inlineSparkMacros(sql, TEST_MACROS);
    expect(out).not.toMatch(/\b(tag|twice)\s*\(/);
    expect(out).toContain("CAST((concat(a, ',')) AS STRING)");
    expect(out).toContain("CAST(('(') AS STRING)");
    expect(out).toContain('CAST(((CAST((b) AS DOUBLE) * 2)) AS STRING)');
  });

  it('ignores macro names in strings, comments, qualified names and non-calls', () => {
    const sql = "SELECT 'twice(1)', t.twice, x.twice(1), twice -- twice(2)\nFROM t";
    expect(inlineSparkMacros(sql, TEST_MACROS)).toBe(sql);
  });

  it('rejects a call with the wrong number of arguments', () => {
    expect(() => inlineSparkMacros('SELECT twice(1, 2)', TEST_MACROS)).toThrow(
      'twice() takes 1 arguments, got 2',
    );
  });

  it('leaves no macro call in any bundled job', () => {
    const call = new RegExp(`\\b(${MACROS.map((m) => m.name).join('|')})\\s*\\(`, 'i');
    for (const job of JOBS) {
      for (const s of loadJobSql(job)) {
        const inlined = inlineSparkMacros(s.sql);
        expect(inlined, `${job.name}.${s.name}`).not.toMatch(call);
        // Parameter markers survive for spark.sql(sql, args=...).
        expect(inlined.match(/(?<![:\w]):[a-z_]+/g) ?? []).toEqual(s.sql.match(/(?<![:\w]):[a-z_]+/g) ?? []);
      }
    }
  });
});

describe('sparkPlanOf', () => {
  const plan: JobPlan = {
    job: 'enrichment',
    kind: 'row',
    runId: 'r1',
    runDate: '2026-11-22',
    params: { run_date: { type: 'DATE', value: '2026-11-22' } },
    inputs: [],
    statements: loadJobSql(JOBS.find((j) => j.name === 'enrichment')!),
    outputs: [
      {
        statement: 'enriched_deals',
        table: 'enriched_deals',
        stagingDir: '/lake/_staging/r1/enriched_deals/dt=2026-11-22',
        finalDir: '/lake/enriched_deals/dt=2026-11-22',
        projection: { duckdb: 'a', spark: 'b' },
      },
    ],
    primaryOutput: 'enriched_deals',
    macros: { duckdb: [], spark: [] },
    fingerprint: 'f',
  };

  it('keeps the JobPlan as is and adds the Spark SQL, DQ SQL and session settings', () => {
    const sp = sparkPlanOf(plan);
    const { spark, ...rest } = sp;
    expect(rest).toEqual(plan);
    expect(spark.statements.map((s) => s.name)).toEqual(plan.statements.map((s) => s.name));
    expect(spark.dqViews).toEqual({ enriched_deals: '__dq_enriched_deals' });
    expect(spark.dq.enriched_deals).toMatch(/FROM __dq_enriched_deals$/);
    expect(spark.conf).toMatchObject({
      'spark.sql.timestampType': 'TIMESTAMP_NTZ',
      'spark.sql.session.timeZone': 'UTC',
      'spark.sql.ansi.enabled': 'true',
    });
    expect(JSON.parse(JSON.stringify(sp))).toEqual(sp);
  });
});

describe('Spark settings and launch', () => {
  it('takes defaults from the config and spark-submit/python from the environment', () => {
    const config = loadConfig({ env: {}, cwd: '/tmp' });
    const s = sparkSettings(config, { SPARK_SUBMIT: '/opt/spark/bin/spark-submit', SPARK_PYTHON: '/py' });
    expect(s).toMatchObject({
      submit: '/opt/spark/bin/spark-submit',
      python: '/py',
      master: 'local[2]',
      driverMemory: '1g',
    });
    expect(sparkSettings(config, {}).submit).toBe('spark-submit');
    const fromFile = loadConfig({
      env: { DEALFINDER_SPARK_MASTER: 'local[1]' },
      cwd: '/tmp',
      overrides: { spark: { submit: '/x/spark-submit', conf: { 'spark.a': 'b' } } },
    });
    expect(sparkSettings(fromFile, { SPARK_SUBMIT: '/ignored' })).toMatchObject({
      submit: '/x/spark-submit',
      master: 'local[1]',
      conf: { 'spark.a': 'b' },
    });
  });

  it('binds a local driver to loopback, without UI, and runs the runner in serve mode', () => {
    const s = sparkSettings(loadConfig({ env: {}, cwd: '/tmp' }), {});
    const args = driverSubmitArgs(s, '/tmp/w', '127.0.0.1:4000');
    expect(args.slice(0, 4)).toEqual(['--master', 'local[2]', '--driver-memory', '1g']);
    for (const conf of [
      'spark.ui.enabled=false',
      'spark.driver.host=127.0.0.1',
      'spark.driver.bindAddress=127.0.0.1',
      'spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs=false',
      'spark.sql.timestampType=TIMESTAMP_NTZ',
    ])
      expect(args).toContain(conf);
    expect(args.slice(-3)).toEqual([SPARK_RUNNER, '--serve', '127.0.0.1:4000']);
    expect(existsSync(SPARK_RUNNER)).toBe(true);
    const yarn = driverSubmitArgs({ ...s, master: 'yarn' }, '/tmp/w', '10.0.0.1:4000');
    expect(yarn.some((a) => a.startsWith('spark.driver.host='))).toBe(false);
  });

  it('fails a run with a clear, non-retryable error when spark-submit does not exist', async () => {
    const s = sparkSettings(loadConfig({ env: {}, cwd: '/tmp' }), {
      SPARK_SUBMIT: '/nonexistent/spark-submit',
    });
    const engine = new SparkEngine({ ...s, startTimeoutMs: 10_000 });
    try {
      await expect(engine.start()).rejects.toMatchObject({
        code: 'service-unavailable',
        retryable: false,
        message: 'spark-submit not found: /nonexistent/spark-submit',
      });
    } finally {
      await engine.close();
    }
  });

  it('createEngine builds the named engine and rejects unknown names', async () => {
    const config = loadConfig({ env: {}, cwd: '/tmp' });
    const spark = await createEngine('spark', config, {});
    expect(spark.name).toBe('spark');
    await spark.close();
    await expect(createEngine('hadoop', config)).rejects.toThrow('unknown engine hadoop');
  });
});
