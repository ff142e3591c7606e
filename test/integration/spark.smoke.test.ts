/**
 * Local Spark from TypeScript: DuckDB writes Parquet, spark-submit (local[2]) runs a
 * tiny PySpark job over it, DuckDB reads Spark's Parquet back; values must agree.
 * Also reports spark-submit's startup overhead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { servicesFor } from '../services/index.js';
import { PY_SCRIPTS_DIR, runCommand } from '../services/python-env.js';
import { sparkSubmitEnv } from '../services/spark.js';

const svc = await servicesFor('spark');
let work = '';

async function duck<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

svc.describe('spark smoke (DuckDB → PySpark → DuckDB)', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'dealfinder-spark-smoke-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('hands out the venv python, spark-submit, SPARK_HOME and a Java 17 home', () => {
    const env = svc.env;
    expect(env.SPARK_SUBMIT).toMatch(/\/bin\/spark-submit$/);
    expect(env.SPARK_PYTHON).toMatch(/\/bin\/python$/);
    expect(env.SPARK_HOME).toMatch(/site-packages\/pyspark$/);
    expect(env.JAVA_HOME).toBeTruthy();
    expect(env.SPARK_LOCAL_IP).toBe('127.0.0.1');
    expect(env).not.toHaveProperty('PYSPARK_HADOOP_VERSION');
  });

  it('reads DuckDB Parquet and writes Parquet DuckDB reads back', async () => {
    const input = path.join(work, 'deals.parquet');
    const output = path.join(work, 'by_category');
    await duck(`
      COPY (
        SELECT i AS id,
               ['Electronics','Home','Toys','Automotive'][(i % 4) + 1] AS category,
               CAST(9.99 + i AS DECIMAL(10,2)) AS price,
               TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (i) MINUTE AS seen_at,
               TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL (i) MINUTE AS seen_at_tz,
               'deal ' || i AS title
        FROM range(1000) t(i)
      ) TO '${input}' (FORMAT parquet)`);

    const started = Date.now();
    const result = await runCommand(
      svc.env.SPARK_SUBMIT as string,
      [
        '--master',
        'local[2]',
        '--driver-memory',
        '512m',
        '--conf',
        'spark.ui.enabled=false',
        '--conf',
        'spark.sql.session.timeZone=UTC',
        path.join(PY_SCRIPTS_DIR, 'spark_smoke_job.py'),
        input,
        output,
      ],
      { timeoutMs: 5 * 60_000, env: sparkSubmitEnv(svc.env), cwd: work },
    );
    const wallMs = Date.now() - started;
    if (result.code !== 0)
      throw new Error(`spark-submit failed (${result.error ?? result.code}):\n${result.stderr.slice(-6000)}`);
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown> & {
      session_s: number;
      job_s: number;
      python_start_to_import_s: number;
    };
    const jobMs = Math.round(report.job_s * 1000);
    console.log(
      `[spark] spark-submit wall ${wallMs} ms = JVM+launcher+python start and SparkSession ${wallMs - jobMs} ms ` +
        `(session ${Math.round(report.session_s * 1000)} ms) + job ${jobMs} ms; ${JSON.stringify(report)}`,
    );
    expect(report.spark).toMatch(/^3\.5\./);
    expect(report.master).toBe('local[2]');
    expect(report.ui).toBe('false');
    expect(report.driver_host).toBe('127.0.0.1');
    expect(report.input_schema).toMatchObject({
      id: 'bigint',
      category: 'string',
      price: 'decimal(10,2)',
      title: 'string',
    });

    const fromSpark = await duck<{
      category: string;
      n: string;
      total_price: string;
      last_seen: string;
      last_seen_tz: string;
      max_title_len: number;
      t_last_seen: string;
      t_last_seen_tz: string;
    }>(
      `SELECT *, typeof(last_seen) AS t_last_seen, typeof(last_seen_tz) AS t_last_seen_tz
       FROM read_parquet('${output}/*.parquet') ORDER BY category`,
    );
    const expected = await duck<{
      category: string;
      n: string;
      total_price: string;
      last_seen: string;
      max_title_len: number;
    }>(
      `SELECT category, count(*) AS n, sum(price) AS total_price, max(seen_at) AS last_seen, max(length(title)) AS max_title_len
       FROM read_parquet('${input}') GROUP BY category ORDER BY category`,
    );
    expect(fromSpark.map((r) => r.category)).toEqual(['Automotive', 'Electronics', 'Home', 'Toys']);
    expect(
      fromSpark.map((r) => [r.category, String(r.n), String(r.total_price), String(r.max_title_len)]),
    ).toEqual(expected.map((r) => [r.category, String(r.n), String(r.total_price), String(r.max_title_len)]));
    console.log(
      `[spark] timestamp types after the round trip: ${fromSpark[0]?.t_last_seen}, ${fromSpark[0]?.t_last_seen_tz}; ` +
        `values ${fromSpark[0]?.last_seen} / ${fromSpark[0]?.last_seen_tz} (expected ${expected[0]?.last_seen})`,
    );
    // Same instant whichever timestamp flavour each side picked.
    for (const [i, row] of fromSpark.entries()) {
      const want = Date.parse(`${expected[i]?.last_seen}Z`);
      expect(Date.parse(`${row.last_seen.replace(' ', 'T').replace(/(\+00(:00)?|Z)?$/, '')}Z`)).toBe(want);
      expect(Date.parse(row.last_seen_tz.replace(' ', 'T').replace(/\+00$/, '+00:00'))).toBe(want);
    }
    expect(fromSpark.reduce((sum, r) => sum + Number(r.n), 0)).toBe(1000);
  });
});
