/**
 * Engine parity: the same job definitions run on DuckDB and on Apache Spark (local[2]) over the
 * same sample lake must produce the same tables, row by row. The sample is generated once and
 * copied, the nightly pipeline runs every day on each engine through createEngine(), then every
 * output table is read back (with DuckDB, from both lakes) in a canonical order and compared:
 * strings, integers, dates and timestamps exactly, doubles to a relative tolerance of 1e-9, run
 * ids masked. A mismatch fails with the first differing rows, column by column. Each day also
 * carries a batch of tricky raw deals (test/fixtures/tricky-deals.ts): real-feed text where the
 * engines' string functions differ.
 */
import { copyFileSync, cpSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../core/errors.ts';
import { addDays, listParquet } from '../../core/lake.ts';
import { createLogger } from '../../core/logging.ts';
import type { Engine } from '../../jobs/engines/engine.ts';
import { createEngine } from '../../jobs/engines/index.ts';
import { type SparkEngine, SparkJobError } from '../../jobs/engines/spark/index.ts';
import { planJob } from '../../jobs/plan.ts';
import { jobByName } from '../../jobs/registry.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { type RunSummary, runNightly } from '../../pipelines/nightly.ts';
import { seedSample } from '../../samples/index.ts';
import { landRawDeals } from '../../samples/ingest.ts';
import { FULL_SCAN_TRENDS } from '../fixtures/price-trends-full-scan.ts';
import { trickyRawDeals } from '../fixtures/tricky-deals.ts';
import { servicesFor } from '../services/index.js';
import { readRows, type TempLake, tempLake } from '../support/lake.ts';
import { diffTables, isFloating, type TableRows, TOL } from '../support/table-diff.ts';

const END = '2026-11-22';
const SAMPLE = { endDate: END, days: 3, rawDealsPerDay: 3000, products: 1500, seed: 7 };
const DATES = [addDays(END, -2), addDays(END, -1), END];
const MASKED = new Set(['run_id']);

/** Output tables, their files, and the columns that identify a row (canonical order). */
const TABLES: Record<string, { glob: string; key: string[] }> = {
  deals: { glob: 'deals/*/*.parquet', key: ['dt', 'deal_id'] },
  quarantine: { glob: 'quarantine/*/*/*.parquet', key: ['dt', 'step', 'source', 'source_row'] },
  enriched_deals: { glob: 'enriched_deals/*/*.parquet', key: ['dt', 'deal_id'] },
  price_daily: { glob: 'price_daily/*/*.parquet', key: ['dt', 'scope', 'scope_key'] },
  price_trends: { glob: 'price_trends/*/*.parquet', key: ['dt', 'scope', 'scope_key'] },
  features: { glob: 'features/*/*.parquet', key: ['dt', 'deal_id'] },
};

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

const sqlParquet = (root: string, glob: string) =>
  `read_parquet(${sqlString(path.join(root, glob))}, hive_partitioning = true)`;

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
    await seedSample(duck, SAMPLE);
    const db = await DuckDBInstance.create(':memory:');
    try {
      const conn = await db.connect();
      const catalog = path.join(duck.lake.partitionDir('products'), '*.parquet');
      const [product] = await readRows(
        `SELECT title FROM read_parquet(${sqlString(catalog)}) ORDER BY product_id LIMIT 1`,
      );
      for (const [day, date] of DATES.entries())
        await landRawDeals(
          conn,
          duck.lake,
          date,
          'tricky',
          trickyRawDeals(date, day, String(product?.title)),
        );
      conn.closeSync();
    } finally {
      db.closeSync();
    }
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

  it.each(['duckdb', 'spark'] as const)('%s reads the tricky deals as a person would', async (which) => {
    const root = which === 'duckdb' ? duck.root : spark.root;
    const day = `deals/dt=${END}/*.parquet`;
    const deals = await readRows(
      `SELECT url, link, title, description, price FROM ${sqlParquet(root, day)} WHERE source = 'tricky-feed'`,
    );
    const prices = deals.map((d) => Number(d.price));
    for (const p of [4, 5.25, 6, 1299.99, 7.77, 4.123456789012345, 1e-9, 10 / 3]) expect(prices).toContain(p);
    const byLink = (link: string) => deals.find((d) => String(d.link) === link);
    expect(byLink('https://WWW.Example.COM/Path/Item/?b=2&utm_source=rss&a=1#frag')?.url).toBe(
      'https://example.com/Path/Item?a=1&b=2',
    );
    expect(byLink('https://example.com/path/item?a=1&b=2')?.url).toBe(
      'https://example.com/path/item?a=1&b=2',
    );
    expect(byLink('http://www.example.com/Path/Item?a=1&fbclid=x&b=2')).toBeUndefined(); // same deal, later
    expect(byLink('HTTPS://SHOP.EXAMPLE/UPPER?Z=1&a=2&ref=x&Ref=y&refx=keep')?.url).toBe(
      'https://shop.example/UPPER?Z=1&a=2&refx=keep',
    );
    expect(byLink('https://shop.example/single?PAGE=2')?.url).toBe('https://shop.example/single?PAGE=2');
    expect(byLink('https://shop.example/single-tracking?UTM_Source=x')?.url).toBe(
      'https://shop.example/single-tracking',
    );
    expect(byLink('https://shop.example/bare?ref')?.url).toBe('https://shop.example/bare');
    expect(byLink('https://İstanbul.example/İ/ı?utm_campaign=x&gclid=y')?.url).toBe(
      'https://İstanbul.example/İ/ı',
    );
    // Titles are entity-decoded like descriptions (issue 12: what the user receives).
    expect(deals.find((d) => d.title === 'Sony &amp; Bose Headphones')).toBeUndefined();
    expect(deals.find((d) => d.title === 'Sony & Bose Headphones')?.description).toBe(
      `Sony & Bose 'quoted' "q", was $49.99`,
    );
    // The feed's own prices and reference prices, on both engines alike.
    const refs = await readRows(
      `SELECT title, description, price, price_source, list_price, list_price_source FROM ${sqlParquet(root, day)}
       WHERE source = 'tricky-feed' AND (title LIKE '%Lamp%' OR title LIKE '%Kettle%' OR title LIKE '%Drill%') ORDER BY title`,
    );
    expect(refs).toEqual([
      {
        title: 'Desc-only Lamp – Brass',
        description: 'Now $9, down from $21.99',
        price: 9,
        price_source: 'description',
        list_price: 21.99,
        list_price_source: 'description',
      },
      {
        title: 'Pair Kettle',
        description: 'for $149.99 $249.99 ’til Sunday',
        price: 149.99,
        price_source: 'title',
        list_price: 249.99,
        list_price_source: 'description',
      },
      {
        title: 'Saving Drill',
        description: "That's $140 off.",
        price: 210,
        price_source: 'title',
        list_price: 350,
        list_price_source: 'saving',
      },
    ]);
    const quarantine = await readRows(
      `SELECT error_code, message FROM ${sqlParquet(root, `quarantine/dt=${END}/*/*.parquet`)} WHERE record_id LIKE 'tricky-%' ORDER BY record_id`,
    );
    const messages = quarantine.map((q) => `${q.error_code}: ${q.message}`);
    expect(messages).toContain('implausible_price: price 12345678.90 is above the plausible maximum');
    expect(messages).toContain('implausible_price: price 123456.79 is above the plausible maximum');
    expect(messages).toContain('expired: offer expired at 2026-11-22 11:59:59.877 before it was seen');
    expect(messages).toContain('unparseable_price: cannot read a price from "$1e3"');
    expect(messages).toContain(
      'discount_not_price: "ΣΟΦΙΑ İstanbul up to 40% off" is a discount, not a price',
    );
  });

  it('spark: the incremental price_trends equals the full 90-day rescan it replaced', async () => {
    const plan = planJob(FULL_SCAN_TRENDS, {
      lake: spark.lake,
      config: spark.config,
      runId: 'parity-full-scan',
      runDate: END,
    });
    await sparkEngine.run(plan);
    const read = async (glob: string): Promise<TableRows> => {
      const src = `read_parquet(${sqlString(glob)})`;
      const columns = (await readRows(`DESCRIBE SELECT * FROM ${src}`)).map((r) => ({
        name: String(r.column_name),
        type: String(r.column_type),
      }));
      return { columns, rows: await readRows(`SELECT * FROM ${src} ORDER BY scope, scope_key`) };
    };
    const reference = await read(path.join(plan.outputs[0]!.stagingDir, '*.parquet'));
    const incremental = await read(path.join(spark.lake.partitionDir('price_trends', END), '*.parquet'));
    expect(reference.rows.length).toBeGreaterThan(0);
    const diff = diffTables('price_trends', ['scope', 'scope_key'], reference, incremental, [
      'full rescan',
      'incremental',
    ]);
    if (diff) throw new Error(diff);
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
