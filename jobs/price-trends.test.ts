/**
 * price_trends is rolled up from daily aggregates (price_daily) instead of rescanning 90 days of
 * enriched deals. This test runs the nightly over a sparse 100-day lake (the run days sit on every
 * window boundary: ages 6/7, 29/30, 89/90) plus tie-prone observations, then recomputes each day's
 * trends the old way (test/fixtures/price-trends-full-scan.sql, the SQL before the change) over the
 * same lake and compares the two row by row.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../core/lake.ts';
import { createLogger } from '../core/logging.ts';
import { runNightly } from '../pipelines/index.ts';
import { generateSample } from '../samples/generator.ts';
import { landRawDeals } from '../samples/ingest.ts';
import { FULL_SCAN_TRENDS } from '../test/fixtures/price-trends-full-scan.ts';
import { trickyRawDeals } from '../test/fixtures/tricky-deals.ts';
import { parquet, readRows, type TempLake, tempLake } from '../test/support/lake.ts';
import { diffTables, type TableRows } from '../test/support/table-diff.ts';
import { DuckDbEngine, duckDbSettings, openDuckDb } from './index.ts';
import { planJob } from './plan.ts';
import { jobByName } from './registry.ts';

const END = '2026-11-22';
const RUN_OFFSETS = [-95, -90, -89, -60, -31, -30, -29, -8, -7, -6, -1, 0];
const RUN_DATES = RUN_OFFSETS.map((d) => addDays(END, d));
async function tableRows(glob: string): Promise<TableRows> {
  const src = parquet(glob);
  const columns = (await readRows(`DESCRIBE SELECT * FROM ${src}`))
    .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
    .filter((c) => c.name !== 'dt');
  const rows = (await readRows(`SELECT * FROM ${src} ORDER BY scope, scope_key`)).map(
    ({ dt: _dt, ...r }) => r,
  );
  return { columns, rows };
}

describe('price_trends from daily aggregates = price_trends from a 90-day rescan', () => {
  let t: TempLake;
  let engine: DuckDbEngine;
  const rowsIn = new Map<string, number | null | undefined>();

  beforeAll(async () => {
    t = tempLake();
    const db = await openDuckDb(duckDbSettings(t.config), { preserveInsertionOrder: true });
    const conn = await db.connect();
    try {
      await generateSample(conn, t.lake, {
        endDate: END,
        days: 100,
        rawDealsPerDay: 80,
        products: 40,
        seed: 11,
      });
      const catalog = path.join(t.lake.partitionDir('products'), '*.parquet');
      const [product] = await readRows(`SELECT title FROM ${parquet(catalog)} ORDER BY product_id LIMIT 1`);
      for (const [i, date] of RUN_DATES.entries())
        await landRawDeals(conn, t.lake, date, 'tricky', trickyRawDeals(date, i, String(product?.title)));
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    engine = await DuckDbEngine.create(duckDbSettings(t.config));
    const log = createLogger({}, 'silent');
    for (const date of RUN_DATES) {
      const s = await runNightly({ date, engine, config: t.config, lake: t.lake, log });
      expect(s.error?.message, date).toBeUndefined();
      rowsIn.set(date, s.steps.find((x) => x.step === 'price_trends')?.rows_in);
    }
  }, 240_000);

  afterAll(async () => {
    await engine?.close();
    t?.cleanup();
  });

  it('writes one daily aggregate per scope key and day, and reads only today’s deals', () => {
    const plan = planJob(jobByName('price_trends'), {
      lake: t.lake,
      config: t.config,
      runId: 'plan-only',
      runDate: END,
    });
    const files = (view: string) => plan.inputs.find((i) => i.view === view)?.files ?? [];
    expect(files('enriched_deals')).toEqual(t.lake.partitionFiles('enriched_deals', END));
    // The run days of the last 89 days before END that have aggregates: ages 1, 6, 7, 8, 29, 30, 31, 60, 89.
    expect(files('daily_hist')).toHaveLength(9);
  });

  it.each(RUN_DATES.slice(1))('%s: same rows as the full rescan', async (date) => {
    const plan = planJob(FULL_SCAN_TRENDS, {
      lake: t.lake,
      config: t.config,
      runId: `full-${date}`,
      runDate: date,
    });
    const result = await engine.run(plan);
    const staged = plan.outputs[0]!.stagingDir;
    const reference = await tableRows(path.join(staged, '*.parquet'));
    const incremental = await tableRows(path.join(t.lake.partitionDir('price_trends', date), '*.parquet'));
    expect(reference.rows.length).toBeGreaterThan(0);
    const diff = diffTables('price_trends', ['scope', 'scope_key'], reference, incremental, [
      'full rescan',
      'incremental',
    ]);
    if (diff) throw new Error(diff);
    expect(rowsIn.get(date)).toBe(result.metrics.rows_in);
  });

  it('covers the windows: 7, 30 and 90 days differ somewhere, ties and slopes occur', async () => {
    const rows = await readRows(
      `SELECT * FROM ${parquet(path.join(t.lake.partitionDir('price_trends', END), '*.parquet'))}`,
    );
    expect(rows.some((r) => Number(r.obs_7d) < Number(r.obs_30d))).toBe(true);
    expect(rows.some((r) => Number(r.obs_30d) < Number(r.obs_90d))).toBe(true);
    expect(rows.some((r) => r.slope_30d !== null && Number(r.slope_30d) !== 0)).toBe(true);
    expect(rows.some((r) => r.scope === 'product' && Number(r.stddev_90d) > 0)).toBe(true);
  });
});
