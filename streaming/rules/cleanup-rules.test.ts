import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging.ts';
import { DuckDbEngine, duckDbSettings, jobByName, planJob } from '../../jobs/index.ts';
import { runNightly } from '../../pipelines/index.ts';
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
      (ids) =>
        ids
          .filter((id) => id === one.deal_id)
          .map((deal_id) => ({ deal_id, seen_at: one.seen_at, price: one.price })),
    );
    expect(again.deals.map((d) => d.deal.deal_id)).not.toContain(one.deal_id);
    expect(again.deals).toHaveLength(first.deals.length - 1);
    const dayLater = await rules.run(
      input.map((r, i) => ({
        raw: { ...r, seen_at: new Date(Date.parse(r.seen_at) + 25 * 3_600_000).toISOString() },
        offset: 200 + i,
      })),
      's',
      (ids) =>
        ids
          .filter((id) => id === one.deal_id)
          .map((deal_id) => ({ deal_id, seen_at: one.seen_at, price: one.price })),
    );
    expect(dayLater.deals.map((d) => d.deal.deal_id)).toContain(one.deal_id); // outside the 24-hour window
  });
});

describe('price drops: batch dedupe and the stream agree on one sequence of sightings', () => {
  const PREV = '2026-11-21';
  const at = (date: string, hhmm: string) => `${date}T${hhmm}:00.000Z`;
  let n = 0;
  const sighting = (key: string, price: string, seen_at: string): RawDealRecord => ({
    raw_id: `s${++n}`,
    feed: 'dealnews-electronics',
    title: `${key} for ${price}`,
    summary: null,
    url: `https://www.dealnews.com/products/${key}.html?iref=rss-c${n}`,
    price_text: price,
    retailer: null,
    deal_type: 'Deal',
    category_hint: 'Electronics',
    published_at: seen_at,
    expires_at: null,
    seen_at,
  });
  // Defaults: a drop must be ≥ 5 % and ≥ $1 below the last event's price.
  const day1 = [
    sighting('sony', '$278', at(PREV, '10:00')), // new: an event
    sighting('lg', '$149.99', at(PREV, '10:00')), // new: an event
    sighting('cheap', '$10', at(PREV, '10:00')), // new: an event
    sighting('bose', '$300', at(PREV, '10:00')), // new: an event
    sighting('sony', '$278', at(PREV, '12:00')), // same price: a duplicate
    sighting('sony', '$270', at(PREV, '14:00')), // 2.9 % lower: a duplicate
    sighting('lg', '$149.00', at(PREV, '18:00')), // $0.99 lower: a duplicate
  ];
  const day2 = [
    sighting('lg', '$99.99', at(DATE, '07:00')), // 33 % and $50 below $149.99: a price drop
    sighting('sony', '$228', at(DATE, '08:00')), // 18 % and $50 below $278: a price drop
    sighting('sony', '$226', at(DATE, '09:00')), // $2 (0.9 %) below the drop's $228: a duplicate
    sighting('cheap', '$9.40', at(DATE, '09:00')), // 6 % but $0.60: a duplicate (both must hold)
    sighting('bose', '$320', at(DATE, '09:00')), // higher: a duplicate
    sighting('sony', '$228', at(DATE, '11:00')), // 25 h after the first event, 3 h after the drop: a duplicate
    sighting('lg', '$99.99', at(DATE, '12:00')), // same as the drop: a duplicate
  ];
  const expected = [
    ['bose', 300, at(PREV, '10:00')],
    ['cheap', 10, at(PREV, '10:00')],
    ['lg', 149.99, at(PREV, '10:00')],
    ['lg', 99.99, at(DATE, '07:00')],
    ['sony', 278, at(PREV, '10:00')],
    ['sony', 228, at(DATE, '08:00')],
  ];
  const events = (rows: { title: unknown; price: unknown; seen_at: unknown }[]) =>
    rows
      .map((r) => [String(r.title), Number(r.price), new Date(String(r.seen_at)).toISOString()])
      .sort((a, b) => `${a[0]}|${a[2]}`.localeCompare(`${b[0]}|${b[2]}`));

  it('the nightly (one batch a day) publishes the first sightings and the drops', async () => {
    const t = tempLake();
    try {
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      await landRawDeals(conn, t.lake, PREV, 'unit', day1);
      await landRawDeals(conn, t.lake, DATE, 'unit', day2);
      conn.closeSync();
      db.closeSync();
      const engine = await DuckDbEngine.create(duckDbSettings(t.config));
      try {
        for (const date of [PREV, DATE]) {
          const log = createLogger({}, 'silent');
          const s = await runNightly({
            date,
            engine,
            config: t.config,
            lake: t.lake,
            log,
            only: ['cleanup'],
          });
          expect(s.error?.message).toBeUndefined();
        }
      } finally {
        await engine.close();
      }
      const rows = await readRows(
        `SELECT title, price, CAST(seen_at AS VARCHAR) || 'Z' AS seen_at FROM ${parquet(path.join(t.root, 'deals/*/*.parquet'))}`,
      );
      expect(events(rows as never)).toEqual(expected);
    } finally {
      t.cleanup();
    }
  });

  it('the stream (one micro-batch per sighting, state as the parse stage keeps it) publishes the same', async () => {
    const t = tempLake();
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const rules = await CleanupRules.open(db, t.config, DATE);
    try {
      // The parse stage's dedupe state: per deal, the seen_at and price of its last published event.
      const state = new Map<string, { seen_at: string; price: number }>();
      const published: { title: string; price: number; seen_at: string }[] = [];
      for (const [i, raw] of [...day1, ...day2].entries()) {
        const out = await rules.run([{ raw, offset: i }], 's', (ids) =>
          ids.flatMap((deal_id) => {
            const e = state.get(deal_id);
            return e ? [{ deal_id, ...e }] : [];
          }),
        );
        for (const { deal } of out.deals) {
          state.set(deal.deal_id, { seen_at: deal.seen_at, price: deal.price });
          published.push(deal);
        }
      }
      expect(events(published)).toEqual(expected);
    } finally {
      rules.close();
      db.closeSync();
      t.cleanup();
    }
  });
});
