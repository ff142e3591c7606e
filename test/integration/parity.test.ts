/**
 * Engine parity: the same job definitions run on DuckDB and on Apache Spark (local[2]) over the
 * same sample lake must produce the same tables, row by row. The sample is generated once and
 * copied, the nightly pipeline runs every day on each engine through createEngine(), then every
 * output table is read back (with DuckDB, from both lakes) in a canonical order and compared:
 * strings, integers, dates and timestamps exactly, doubles to a relative tolerance of 1e-9, run
 * ids masked. A mismatch fails with the first differing rows, column by column.
 */
import { copyFileSync, cpSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSample } from '../../cli/commands/sample.ts';
import { isRetryable } from '../../core/errors.ts';
import { addDays, type Lake, listParquet } from '../../core/lake.ts';
import { createLogger } from '../../core/logging.ts';
import type { Engine } from '../../jobs/engines/engine.ts';
import { createEngine } from '../../jobs/engines/index.ts';
import { type SparkEngine, SparkJobError } from '../../jobs/engines/spark/index.ts';
import { planJob } from '../../jobs/plan.ts';
import { jobByName } from '../../jobs/registry.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { type RunSummary, runNightly } from '../../pipelines/nightly.ts';
import { servicesFor } from '../services/index.js';
import { readRows, type TempLake, tempLake } from '../support/lake.ts';

const END = '2026-11-22';
const SAMPLE = { endDate: END, days: 3, rawDealsPerDay: 3000, products: 1500, seed: 7 };
const DATES = [addDays(END, -2), addDays(END, -1), END];
/**
 * Tolerance for DOUBLE columns: relative 1e-9, absolute 1e-9 near zero (aggregation order differs
 * between engines, and a difference of two equal means is 0 on one and 1e-14 on the other).
 */
const TOL = 1e-9;
const MASKED = new Set(['run_id']);

/** Output tables, their files, and the columns that identify a row (canonical order). */
const TABLES: Record<string, { glob: string; key: string[] }> = {
  deals: { glob: 'deals/*/*.parquet', key: ['dt', 'deal_id'] },
  quarantine: { glob: 'quarantine/*/*/*.parquet', key: ['dt', 'step', 'source', 'source_row'] },
  enriched_deals: { glob: 'enriched_deals/*/*.parquet', key: ['dt', 'deal_id'] },
  price_trends: { glob: 'price_trends/*/*.parquet', key: ['dt', 'scope', 'scope_key'] },
  features: { glob: 'features/*/*.parquet', key: ['dt', 'deal_id'] },
};

interface TableRows {
  readonly columns: { name: string; type: string }[];
  readonly rows: Record<string, unknown>[];
}

async function readTable(root: string, table: string): Promise<TableRows> {
  const { glob, key } = TABLES[table]!;
  const src = `read_parquet(${sqlString(path.join(root, glob))}, hive_partitioning = true)`;
  const columns = (await readRows(`DESCRIBE SELECT * FROM ${src}`)).map((r) => ({
    name: String(r.column_name),
    type: String(r.column_type),
  }));
  const exact = columns.filter((c) => !isFloating(c.type) && !key.includes(c.name)).map((c) => c.name);
  const rows = await readRows(`SELECT * FROM ${src} ORDER BY ${[...key, ...exact].join(', ')}`);
  for (const r of rows) for (const m of MASKED) if (m in r) r[m] = '<masked>';
  return { columns, rows };
}

function isFloating(type: string): boolean {
  return /^(DOUBLE|FLOAT|REAL)$/i.test(type);
}

function sameValue(a: unknown, b: unknown, floating: boolean): boolean {
  if (floating && a !== null && b !== null) {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    return x === y || Math.abs(x - y) <= TOL * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Null when both sides hold the same rows; else a readable report: row counts, keys present on
 * one side only, and the first differing rows with each differing column's two values.
 */
function diffTables(
  table: string,
  key: readonly string[],
  left: TableRows,
  right: TableRows,
  names: [string, string] = ['duckdb', 'spark'],
  maxRows = 5,
): string | null {
  const lines: string[] = [];
  const schema = (t: TableRows) => t.columns.map((c) => `${c.name} ${c.type}`).join(', ');
  if (schema(left) !== schema(right)) {
    lines.push(`  schemas differ:\n    ${names[0]}: ${schema(left)}\n    ${names[1]}: ${schema(right)}`);
  }
  const keyOf = (r: Record<string, unknown>) => key.map((k) => `${k}=${String(r[k])}`).join(', ');
  const index = (rows: Record<string, unknown>[]) => {
    const m = new Map<string, Record<string, unknown>>();
    const seen = new Map<string, number>();
    for (const r of rows) {
      const k = keyOf(r);
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      m.set(n ? `${k} #${n + 1}` : k, r);
    }
    return m;
  };
  const a = index(left.rows);
  const b = index(right.rows);
  const onlyA = [...a.keys()].filter((k) => !b.has(k));
  const onlyB = [...b.keys()].filter((k) => !a.has(k));
  if (onlyA.length)
    lines.push(`  ${onlyA.length} row(s) only in ${names[0]}, first: ${onlyA.slice(0, maxRows).join(' | ')}`);
  if (onlyB.length)
    lines.push(`  ${onlyB.length} row(s) only in ${names[1]}, first: ${onlyB.slice(0, maxRows).join(' | ')}`);
  const floating = new Map(left.columns.map((c) => [c.name, isFloating(c.type)]));
  const differing: string[] = [];
  let count = 0;
  for (const [k, ra] of a) {
    const rb = b.get(k);
    if (!rb) continue;
    const cols = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter(
      (c) => !sameValue(ra[c], rb[c], floating.get(c) ?? false),
    );
    if (cols.length === 0) continue;
    count++;
    if (differing.length < maxRows) {
      differing.push(
        `  row (${k}):\n${cols
          .map((c) => `    ${c}: ${names[0]} ${JSON.stringify(ra[c])} | ${names[1]} ${JSON.stringify(rb[c])}`)
          .join('\n')}`,
      );
    }
  }
  if (count) lines.push(`  ${count} row(s) differ; first ${differing.length}:`, ...differing);
  if (lines.length === 0) return null;
  return [
    `table ${table}: ${names[0]} has ${left.rows.length} rows, ${names[1]} has ${right.rows.length} rows`,
    ...lines,
  ].join('\n');
}

function stepFacts(runs: RunSummary[]): Record<string, unknown>[] {
  return runs.flatMap((r) =>
    r.steps.map((s) => ({
      date: r.date,
      step: s.step,
      status: s.status,
      rows_in: s.rows_in,
      rows_out: s.rows_out,
      quarantined: s.quarantined,
      deduplicated: s.deduplicated,
      quarantineByCode: s.detail?.quarantineByCode,
      dq: s.detail?.dq.map(
        (c) =>
          `${c.output}.${c.check}=${c.status}:${c.value === null ? 'null' : Number(c.value).toPrecision(9)}`,
      ),
    })),
  );
}

describe('parity comparator (no engine needed)', () => {
  const table: TableRows = {
    columns: [
      { name: 'dt', type: 'DATE' },
      { name: 'deal_id', type: 'VARCHAR' },
      { name: 'price', type: 'DOUBLE' },
    ],
    rows: [
      { dt: '2026-11-22', deal_id: 'a', price: 10 },
      { dt: '2026-11-22', deal_id: 'b', price: 1 / 3 },
    ],
  };
  it('accepts doubles within the tolerance and reports the first differing rows by key and column', () => {
    const near = { ...table, rows: table.rows.map((r) => ({ ...r, price: Number(r.price) * (1 + 1e-12) })) };
    expect(diffTables('deals', ['dt', 'deal_id'], table, near)).toBeNull();
    const cancelled = { ...table, rows: table.rows.map((r) => ({ ...r, price: Number(r.price) - 10 })) };
    const noise = { ...table, rows: cancelled.rows.map((r) => ({ ...r, price: r.price + 1.3e-14 })) };
    expect(diffTables('deals', ['dt', 'deal_id'], cancelled, noise)).toBeNull();
    const off = {
      ...table,
      rows: [
        table.rows[0]!,
        { ...table.rows[1]!, price: 0.34 },
        { dt: '2026-11-22', deal_id: 'c', price: 2 },
      ],
    };
    const diff = diffTables('deals', ['dt', 'deal_id'], table, off);
    expect(diff).toContain('table deals: duckdb has 2 rows, spark has 3 rows');
    expect(diff).toContain('1 row(s) only in spark, first: dt=2026-11-22, deal_id=c');
    expect(diff).toContain(
      'row (dt=2026-11-22, deal_id=b):\n    price: duckdb 0.3333333333333333 | spark 0.34',
    );
  });
});

const svc = await servicesFor('spark');

svc.describe('engine parity: DuckDB and Spark run the same jobs to the same tables', () => {
  let duck: TempLake;
  let spark: TempLake;
  let sparkEngine: SparkEngine;
  const runs: Record<'duckdb' | 'spark', RunSummary[]> = { duckdb: [], spark: [] };
  const wallMs: Record<'duckdb' | 'spark', number> = { duckdb: 0, spark: 0 };
  const log = createLogger({}, 'silent');

  async function nightly(which: 'duckdb' | 'spark', t: TempLake, engine: Engine): Promise<void> {
    const started = performance.now();
    try {
      for (const date of DATES) {
        const r = await runNightly({ date, engine, config: t.config, lake: t.lake, log });
        runs[which].push(r);
        if (r.status !== 'succeeded') {
          const cause = (r.error?.cause as Error | undefined)?.message ?? '';
          throw new Error(`${which} nightly ${date} failed: ${r.error?.message}\n${cause}`);
        }
      }
    } finally {
      wallMs[which] = performance.now() - started;
    }
  }

  beforeAll(async () => {
    duck = tempLake('dealfinder-parity-duckdb-');
    spark = tempLake('dealfinder-parity-spark-');
    const ctx = (lake: Lake) => ({ config: duck.config, lake, log, out: process.stdout, isTty: false });
    await seedSample(ctx(duck.lake), SAMPLE);
    // Bad raw input on the last day, the same for both engines: a truncated Parquet (quarantined
    // as one file-level record) and a .json dropped in (reported, not read).
    const rawDir = duck.lake.partitionDir('raw_deals', END);
    const [firstRaw] = listParquet(rawDir);
    const broken = path.join(rawDir, 'truncated-feed.parquet');
    copyFileSync(firstRaw!, broken);
    truncateSync(broken, Math.floor(statSync(broken).size / 3));
    writeFileSync(path.join(rawDir, 'dropped-by-hand.json'), '{}\n');
    cpSync(duck.root, spark.root, { recursive: true });
    const duckEngine = await createEngine('duckdb', duck.config);
    try {
      await nightly('duckdb', duck, duckEngine);
    } finally {
      await duckEngine.close();
    }
    const sparkConfig = {
      ...spark.config,
      spark: { ...spark.config.spark, driverMemory: '768m', shufflePartitions: 2 },
    };
    sparkEngine = (await createEngine('spark', sparkConfig)) as SparkEngine;
    await nightly('spark', spark, sparkEngine);
    const launch = sparkEngine.launches.map((ms) => Math.round(ms)).join(', ');
    console.log(
      `[parity] ${DATES.length} days x ${SAMPLE.rawDealsPerDay} raw deals: DuckDB ${Math.round(wallMs.duckdb)} ms, ` +
        `Spark ${Math.round(wallMs.spark)} ms (driver launch ${launch} ms, Spark ${sparkEngine.version})`,
    );
  }, 8 * 60_000);

  afterAll(async () => {
    await sparkEngine?.close();
    duck?.cleanup();
    spark?.cleanup();
  }, 60_000);

  it('ran the whole nightly series on one spark-submit', () => {
    expect(sparkEngine.launches).toHaveLength(1);
    expect(sparkEngine.version).toMatch(/^3\.5\./);
  });

  it('runs every step on both engines with the same counts and DQ results', () => {
    const facts = stepFacts(runs.duckdb);
    expect(facts).toHaveLength(DATES.length * 4);
    expect(facts.every((f) => f.status === 'succeeded')).toBe(true);
    expect(stepFacts(runs.spark)).toEqual(facts);
  });

  it('treats bad raw files alike: one file-level quarantine record, the same warnings', async () => {
    for (const which of ['duckdb', 'spark'] as const) {
      const last = runs[which].at(-1)!;
      expect(last.warnings, which).toEqual([
        `raw/deals/dt=${END}/dropped-by-hand.json: not a Parquet file, not read (the raw zone holds *.parquet)`,
        expect.stringMatching(
          new RegExp(`^raw/deals/dt=${END}/truncated-feed\\.parquet: unreadable, quarantined as one file`),
        ),
      ]);
      const root = which === 'duckdb' ? duck.root : spark.root;
      const rows = await readRows(
        `SELECT source, error_code FROM read_parquet(${sqlString(path.join(root, 'quarantine', `dt=${END}`, '*', '*.parquet'))}) WHERE error_code = 'unreadable_file'`,
      );
      expect(rows, which).toEqual([
        { source: `raw/deals/dt=${END}/truncated-feed.parquet`, error_code: 'unreadable_file' },
      ]);
    }
  });

  it.each(Object.keys(TABLES))('%s: same schema and same rows', async (table) => {
    const left = await readTable(duck.root, table);
    const right = await readTable(spark.root, table);
    expect(left.rows.length).toBeGreaterThan(0);
    const diff = diffTables(table, TABLES[table]!.key, left, right);
    if (diff) throw new Error(diff);
    console.log(`[parity] ${table}: ${left.rows.length} rows identical (doubles within ${TOL})`);
  });

  it("reports a failing statement with Spark's message, and the driver keeps serving", async () => {
    const plan = planJob(jobByName('enrichment'), {
      lake: spark.lake,
      config: spark.config,
      runId: 'parity-error',
      runDate: END,
    });
    const broken = {
      ...plan,
      statements: plan.statements.map((s) =>
        s.name === 'best' ? { ...s, sql: s.sql.replace('c.price_gap', 'c.no_such_column') } : s,
      ),
    };
    const error = await sparkEngine.run(broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SparkJobError);
    expect((error as Error).message).toMatch(/^spark: \[UNRESOLVED_COLUMN[^\n]*no_such_column/);
    expect(isRetryable(error)).toBe(false);
    const ok = await sparkEngine.run(plan);
    expect(ok.outputs.enriched_deals?.rows).toBe(
      runs.spark.at(-1)?.steps.find((x) => x.step === 'enrichment')?.rows_out,
    );
    expect(sparkEngine.launches).toHaveLength(1);
  });
});
