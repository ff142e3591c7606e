/**
 * A steady-state lake for bench/nightly: the first-night sample's raw and catalog folders (symlinks)
 * plus 90 days of history generated directly from the first night's outputs — no nights are run:
 *
 * - deals dt=D−1: every deal of the first night, seen 23 h earlier (half of them, by deal id
 *   hash: inside the 24-hour dedupe window, so day D drops them) or 25 h earlier (outside it);
 * - price_daily dt=D−89…D−1: the first night's daily aggregates, per day ~60% of the product keys
 *   (hash-sampled) and every category key, prices scaled by a per-key, per-day factor (±8%), times
 *   moved back by the day's age;
 * - price_trends dt=D−1: the first night's trends (the all-time low carried forward, and the
 *   features job's point-in-time trend features).
 *
 * This is what a nightly of day D reads besides its own raw input. Older deals and enriched_deals
 * partitions are not generated: no job of day D reads them.
 */
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { addDays, Lake } from '../../core/lake.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { Deal, PriceDaily, PriceTrend, sqlProjectionOf } from '../../schemas/index.ts';

export const HISTORY_DAYS = 89;

export interface HistorySummary {
  readonly dealsPrev: number;
  readonly dailyRows: number;
  readonly dailyDays: number;
  readonly trendsPrev: number;
  readonly seconds: number;
}

/** Builds `target` from the first-night lake `sample` (which must hold day `date`'s outputs). */
export async function buildSteadyStateLake(
  sample: string,
  target: string,
  date: string,
): Promise<HistorySummary> {
  const t0 = performance.now();
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const dir of ['raw', 'catalog']) symlinkSync(path.join(sample, dir), path.join(target, dir), 'dir');
  const from = new Lake(sample);
  const to = new Lake(target);
  const files = (table: 'deals' | 'price_daily' | 'price_trends') => {
    const list = from.partitionFiles(table, date);
    if (list.length === 0)
      throw new Error(`${sample} has no ${table} for ${date}: run the first night first`);
    return `read_parquet([${list.map(sqlString).join(', ')}])`;
  };
  const prev = addDays(date, -1);
  const out = (table: 'deals' | 'price_trends') => {
    const dir = to.partitionDir(table, prev);
    mkdirSync(dir, { recursive: true });
    return sqlString(path.join(dir, 'part-00000.parquet'));
  };
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '2GB' });
  const conn = await db.connect();
  try {
    const count = async (sql: string) => Number((await conn.runAndReadAll(sql)).getRowObjectsJS()[0]?.n ?? 0);
    await conn.run(
      `COPY (SELECT ${sqlProjectionOf(Deal, 'duckdb')} FROM (
         SELECT * REPLACE (
           seen_at - CASE WHEN hash(deal_id) % 2 = 0 THEN INTERVAL 23 HOUR ELSE INTERVAL 25 HOUR END AS seen_at,
           event_time - INTERVAL 1 DAY AS event_time)
         FROM ${files('deals')})) TO ${out('deals')} (FORMAT parquet, COMPRESSION snappy)`,
    );
    await conn.run(
      `COPY (SELECT ${sqlProjectionOf(PriceTrend, 'duckdb')} FROM (
         SELECT * REPLACE (CAST('${prev}' AS DATE) AS as_of) FROM ${files('price_trends')}))
       TO ${out('price_trends')} (FORMAT parquet, COMPRESSION snappy)`,
    );
    const dailyRoot = to.tableDir('price_daily');
    mkdirSync(dailyRoot, { recursive: true });
    await conn.run(
      `COPY (
         SELECT ${sqlProjectionOf(PriceDaily, 'duckdb')}, CAST(day AS VARCHAR) AS dt FROM (
           SELECT
             d.* REPLACE (
               CAST('${date}' AS DATE) - CAST(k.age AS INTEGER) AS day,
               d.price_sum * f.f AS price_sum,
               d.price_sum_sq * f.f * f.f AS price_sum_sq,
               d.price_min * f.f AS price_min,
               d.price_max * f.f AS price_max,
               d.price_m2 * f.f * f.f AS price_m2,
               d.price_time_m2 * f.f AS price_time_m2,
               d.first_seen_at - to_days(CAST(k.age AS INTEGER)) AS first_seen_at,
               d.last_seen_at - to_days(CAST(k.age AS INTEGER)) AS last_seen_at,
               d.last_price * f.f AS last_price)
           FROM ${files('price_daily')} d
           CROSS JOIN range(1, ${HISTORY_DAYS + 1}) k(age)
           CROSS JOIN LATERAL (SELECT 1.0 + 0.08 * sin(CAST(hash(d.scope_key, k.age) % 1000 AS DOUBLE)) AS f) f
           WHERE d.scope = 'category' OR hash(d.scope_key, k.age, 'seen') % 100 < 60
         )
       ) TO ${sqlString(dailyRoot)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt))`,
    );
    const daily = path.join(dailyRoot, '*', '*.parquet');
    return {
      dealsPrev: await count(`SELECT count(*) AS n FROM read_parquet(${out('deals')})`),
      dailyRows: await count(`SELECT count(*) AS n FROM read_parquet(${sqlString(daily)})`),
      dailyDays: to.partitionDates('price_daily').length,
      trendsPrev: await count(`SELECT count(*) AS n FROM read_parquet(${out('price_trends')})`),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
