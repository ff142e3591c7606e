import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine, duckDbSettings, jobByName, planJob } from '../../jobs/index.ts';
import { landRawDeals, sampleFeedRecords } from '../../samples/ingest.ts';
import type { RawDealRecord } from '../../schemas/index.ts';
import { parquet, readRows, type TempLake, tempLake } from '../../test/support/lake.ts';
import { CleanupRules } from './cleanup-rules.ts';

const DATE = '2026-11-22';

/** The sample feed plus hand-made edge cases (multibuy, from-price, implausible, sale, duplicates). */
function records(): RawDealRecord[] {
  const base = sampleFeedRecords(
    path.resolve('samples/rss/dealnews-electronics.xml'),
    DATE,
    'dealnews-electronics',
    'Electronics',
  );
  const extra = (i: number, over: Partial<RawDealRecord>): RawDealRecord => ({
    ...base[0]!,
    raw_id: `extra-${i}`,
    url: `https://www.dealnews.com/products/x/${i}.html?iref=rss`,
    ...over,
  });
  return [
    ...base,
    extra(1, { title: 'Socks 3 for $30', price_text: '3 for $30' }),
    extra(2, { title: 'Yacht for $90,000,000', price_text: '$90,000,000' }),
    extra(3, { title: 'Shirts from $9', price_text: null }),
    extra(4, { title: 'Store Sale', price_text: null, deal_type: 'Sale' }),
    extra(5, {
      title: 'Cable for $5',
      price_text: '$5',
      url: 'http://WWW.dealnews.com/products/x/5.html/?utm_source=rss&UTM_Medium=feed',
    }),
    extra(6, { title: 'Cable for $5', price_text: '$5', url: 'https://dealnews.com/products/x/5.html#c' }),
  ];
}

describe('CleanupRules (the batch cleanup job on micro-batches)', () => {
  let t: TempLake;
  let db: DuckDBInstance;
  let rules: CleanupRules;
  beforeAll(async () => {
    t = tempLake();
    db = await DuckDBInstance.create(':memory:', { threads: '1' });
    rules = await CleanupRules.open(db, t.config, DATE);
  });
  afterAll(() => {
    rules?.close();
    db?.closeSync();
    t?.cleanup();
  });

  it('gives exactly the deals and quarantine codes of the nightly cleanup job', async () => {
    const input = records();
    const conn = await db.connect();
    await landRawDeals(conn, t.lake, DATE, 'sample', input);
    conn.closeSync();
    const engine = await DuckDbEngine.create(duckDbSettings(t.config));
    const plan = planJob(jobByName('cleanup'), {
      lake: t.lake,
      config: t.config,
      runId: 'r1',
      runDate: DATE,
    });
    await engine.run(plan);
    await engine.close();
    const dir = (name: string) => plan.outputs.find((o) => o.statement === name)!.stagingDir;
    const batchDeals = await readRows(
      `SELECT deal_id, url, title, description, price, price_kind, list_price, category, source, retailer FROM ${parquet(`${dir('deals')}/*.parquet`)} ORDER BY deal_id`,
    );
    const batchQuarantine = await readRows(
      `SELECT record_id, error_code, message FROM ${parquet(`${dir('quarantine')}/*.parquet`)} ORDER BY record_id`,
    );

    const out = await rules.run(
      input.map((raw, i) => ({ raw, offset: i })),
      'deals.raw/0',
      () => [],
    );
    const streamDeals = out.deals
      .map(({ deal: d }) => ({
        deal_id: d.deal_id,
        url: d.url,
        title: d.title,
        description: d.description,
        price: d.price,
        price_kind: d.price_kind,
        list_price: d.list_price,
        category: d.category,
        source: d.source,
        retailer: d.retailer,
      }))
      .sort((a, b) => a.deal_id.localeCompare(b.deal_id));
    expect(streamDeals.length).toBeGreaterThanOrEqual(4);
    expect(streamDeals).toEqual(batchDeals);
    expect(
      out.rejects
        .map((r) => ({ record_id: r.rawId, error_code: r.code, message: r.message }))
        .sort((a, b) => a.record_id.localeCompare(b.record_id)),
    ).toEqual(batchQuarantine);
    expect(new Set(out.rejects.map((r) => r.code))).toEqual(
      new Set([
        'discount_not_price',
        'from_price',
        'non_positive_price',
        'expired',
        'missing_price',
        'implausible_price',
        'sale_without_price',
      ]),
    );
    // Same deal twice in the feed (two tracking suffixes) and two spellings of one url: one deal each.
    expect(out.duplicates).toBe(2);
  });

  it('drops deals seen within the window (deals_prev from the caller), keeps the others', async () => {
    const input = records();
    const first = await rules.run(
      input.map((raw, i) => ({ raw, offset: i })),
      's',
      () => [],
    );
    const one = first.deals[0]!.deal;
    const later = input.map((r) => ({
      ...r,
      seen_at: new Date(Date.parse(r.seen_at) + 3_600_000).toISOString(),
    }));
    const again = await rules.run(
      later.map((raw, i) => ({ raw, offset: 100 + i })),
      's',
      (ids) => ids.filter((id) => id === one.deal_id).map((deal_id) => ({ deal_id, seen_at: one.seen_at })),
    );
    expect(again.deals.map((d) => d.deal.deal_id)).not.toContain(one.deal_id);
    expect(again.deals).toHaveLength(first.deals.length - 1);
    const dayLater = await rules.run(
      input.map((r, i) => ({
        raw: { ...r, seen_at: new Date(Date.parse(r.seen_at) + 25 * 3_600_000).toISOString() },
        offset: 200 + i,
      })),
      's',
      (ids) => ids.filter((id) => id === one.deal_id).map((deal_id) => ({ deal_id, seen_at: one.seen_at })),
    );
    expect(dayLater.deals.map((d) => d.deal.deal_id)).toContain(one.deal_id); // outside the 24-hour window
  });
});
