import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config.ts';
import { type EvaluatedDealRecord, jsonSchemaOf, type OpportunityRecord, RawDeal } from '../schemas/index.ts';
import { EvaluatedDeal, NotificationRecord, Opportunity } from '../schemas/streaming.ts';
import { decode, encode } from './codec.ts';
import { clickLink, RateLimiter, renderMessage } from './notify/channels.ts';
import { defaultWeights, EnsembleEstimator, type PriceEstimator } from './price/estimator.ts';
import { FeedReferenceEstimator } from './price/feed-reference.ts';
import { isTransient, withRetry } from './retry.ts';
import { evaluateDeal, isStale } from './stages/evaluate.ts';
import { PartitionStore } from './state/partition-store.ts';
import { TOPIC_DEFAULTS, Topics } from './topics.ts';

const deal = {
  deal_id: '0123456789abcdef',
  url: 'https://example.com/d',
  link: 'https://example.com/d?utm_source=test',
  title: 'Sony OK-2741 Headphones',
  description: '',
  price: 248,
  price_kind: 'exact',
  price_source: 'price_text',
  list_price: null,
  list_price_source: null,
  category: null,
  source: 'test',
  retailer: null,
  event_time: '2026-11-22T10:00:00.000Z',
  seen_at: '2026-11-22T10:00:00.000Z',
  expires_at: null,
};

describe('topics', () => {
  it('follow the production plan: partitions and retention', () => {
    const t = new Topics('');
    expect([t.def('raw').partitions, t.def('raw').retentionHours]).toEqual([6, 168]);
    expect([t.def('parsed').partitions, t.def('parsed').retentionHours]).toEqual([6, 720]);
    expect([t.def('evaluated').partitions, t.def('evaluated').retentionHours]).toEqual([6, 720]);
    expect([t.def('notifications').partitions, t.def('notifications').retentionHours]).toEqual([3, 72]);
    expect(TOPIC_DEFAULTS.filter((d) => d.key.startsWith('dlq.')).map((d) => d.name)).toEqual([
      'deals.dlq.parse',
      'deals.dlq.price',
      'deals.dlq.evaluate',
      'deals.dlq.notify',
    ]);
  });

  it('apply the environment prefix and config overrides', () => {
    const config = loadConfig({
      env: {},
      overrides: { streaming: { topicPrefix: 'dev.', topics: { raw: { partitions: 12 } } } },
    });
    const t = Topics.of(config);
    expect(t.name('raw')).toBe('dev.deals.raw');
    expect(t.def('raw').partitions).toBe(12);
    expect(t.group('notify')).toBe('dev.dealfinder.notify');
  });
});

describe('codec', () => {
  const raw = {
    raw_id: 'r1',
    feed: 'f',
    title: 't',
    summary: null,
    url: null,
    price_text: null,
    retailer: null,
    deal_type: null,
    category_hint: null,
    published_at: null,
    expires_at: null,
    seen_at: '2026-11-22T10:00:00.000Z',
  };
  it('round-trips a valid record and refuses to produce an invalid one', () => {
    const text = encode(RawDeal, raw);
    expect(decode(RawDeal, Buffer.from(text), 1000)).toEqual({ ok: true, value: raw });
    expect(() => encode(RawDeal, { ...raw, seen_at: 'yesterday' })).toThrow(/refusing to produce/);
  });
  it('classifies bad messages with a dead-letter code', () => {
    expect(decode(RawDeal, Buffer.from('{'), 1000)).toMatchObject({ ok: false, code: 'malformed_json' });
    expect(decode(RawDeal, Buffer.from('{"raw_id": 1}'), 1000)).toMatchObject({
      ok: false,
      code: 'schema_violation',
    });
    expect(decode(RawDeal, Buffer.from(JSON.stringify({ ...raw, extra: 1 })), 1000)).toMatchObject({
      ok: false,
      code: 'schema_violation',
    });
    expect(decode(RawDeal, Buffer.alloc(2000, 32), 1000)).toMatchObject({ ok: false, code: 'oversized' });
    expect(decode(RawDeal, null, 1000)).toMatchObject({ ok: false, code: 'malformed_json' });
  });
  it('derives the Kafka JSON schemas of the stage messages from schemas/', () => {
    const s = jsonSchemaOf(EvaluatedDeal) as { required: string[]; properties: Record<string, unknown> };
    expect(s.required).toContain('deal_id');
    expect(s.properties.estimate).toMatchObject({ anyOf: [{ type: 'number' }, { type: 'null' }] });
    expect(jsonSchemaOf(NotificationRecord)).toMatchObject({ properties: { message: { maxLength: 200 } } });
  });
});

describe('ensemble', () => {
  const fixed = (name: string, value: number | null): PriceEstimator => ({
    name,
    async estimate(deals) {
      return new Map(deals.map((d) => [d.deal_id, { estimate: value }]));
    },
  });
  it('defaults to 0.8/0.1/0.1 over three estimators', async () => {
    expect(defaultWeights(3)).toEqual([0.8, 0.1, 0.1]);
    const e = new EnsembleEstimator([fixed('a', 100), fixed('b', 200), fixed('c', 300)]);
    expect((await e.estimate([deal])).get(deal.deal_id)!.estimate).toBe(130);
  });
  it('renormalizes over the estimators that answered and takes weights from config', async () => {
    const e = new EnsembleEstimator([fixed('a', null), fixed('b', 200), fixed('c', 300)]);
    expect((await e.estimate([deal])).get(deal.deal_id)!.estimate).toBe(250);
    const w = new EnsembleEstimator([fixed('a', 100), fixed('b', 200)], { a: 1, b: 3 });
    expect((await w.estimate([deal])).get(deal.deal_id)!.estimate).toBe(175);
    const none = new EnsembleEstimator([fixed('a', null)]);
    expect((await none.estimate([deal])).get(deal.deal_id)!.estimate).toBeNull();
  });
  it('answers the reference price the item states and abstains otherwise', async () => {
    const ref = new FeedReferenceEstimator();
    const deals = [
      { ...deal, deal_id: 'a', list_price: 398, list_price_source: 'description' },
      { ...deal, deal_id: 'b' }, // no reference
      { ...deal, deal_id: 'c', list_price: 200 }, // not above the price (248)
      { ...deal, deal_id: 'd', price_kind: 'multibuy_unit', list_price: 398 },
    ];
    const got = await ref.estimate(deals);
    expect([...got].map(([id, a]) => [id, a.estimate])).toEqual([
      ['a', 398],
      ['b', null],
      ['c', null],
      ['d', null],
    ]);
    expect(got.get('a')!.detail).toMatch(/stated by the feed \(description\)/);
  });
  it('weighs the feed reference a quarter of the price history, alone it is the estimate', async () => {
    // Price history 300, feed 400: (300·1 + 400·0.25) / 1.25 = 320; the positional defaults of
    // the other estimators are unchanged by it (0.8/0.1/0.1 over three).
    const feed = new FeedReferenceEstimator();
    const withRef = { ...deal, list_price: 400 };
    const both = new EnsembleEstimator([fixed('price_history', 300), feed]);
    expect(both.weights).toEqual([1, 0.25]);
    expect((await both.estimate([withRef])).get(deal.deal_id)!.estimate).toBe(320);
    const day1 = new EnsembleEstimator([fixed('price_history', null), feed]);
    expect((await day1.estimate([withRef])).get(deal.deal_id)!.estimate).toBe(400);
    const three = new EnsembleEstimator([fixed('a', 1), fixed('b', 1), fixed('c', 1), feed]);
    expect(three.weights).toEqual([0.8, 0.1, 0.1, 0.25]);
    const configured = new EnsembleEstimator([fixed('price_history', 300), feed], { feed_reference: 1 });
    expect((await configured.estimate([withRef])).get(deal.deal_id)!.estimate).toBe(350);
  });
});

describe('evaluate', () => {
  const ev = (estimate: number | null): EvaluatedDealRecord => ({
    ...deal,
    estimate,
    estimator_breakdown: '[]',
    product_id: null,
    match_confidence: null,
    estimated_at: '2026-11-22T10:00:01.000Z',
  });
  const at = new Date('2026-11-22T10:00:02.000Z');
  it('makes an opportunity only when the discount is above the threshold', () => {
    expect(evaluateDeal(ev(298), { minDiscount: 50 }, at)).toBeNull(); // exactly $50: not above
    expect(evaluateDeal(ev(null), { minDiscount: 50 }, at)).toBeNull();
    const o = evaluateDeal(ev(398), { minDiscount: 50 }, at)!;
    expect(o).toMatchObject({
      discount: 150,
      estimate: 398,
      rule: 'discount>50',
      evaluated_at: '2026-11-22T10:00:02.000Z', // the clock's time, not the wall clock's
    });
    expect(o.discount_pct).toBeCloseTo(37.69, 2);
    expect(encode(Opportunity, o)).toContain('"discount":150');
  });
  it('applies the optional percent rule', () => {
    expect(evaluateDeal(ev(398), { minDiscount: 50, minDiscountPct: 40 }, at)).toBeNull();
    expect(evaluateDeal(ev(498), { minDiscount: 50, minDiscountPct: 40 }, at)).not.toBeNull();
    // Stale: first seen more than maxAgeHours after publication.
    const seen = '2026-11-22T10:00:00.000Z';
    const published = (hoursBefore: number) =>
      new Date(Date.parse(seen) - hoursBefore * 3_600_000).toISOString();
    expect(isStale({ event_time: published(48), seen_at: seen }, 48)).toBe(false);
    expect(isStale({ event_time: published(48.01), seen_at: seen }, 48)).toBe(true);
    const old = { ...ev(398), event_time: published(24 * 90), seen_at: seen };
    expect(evaluateDeal(old, { minDiscount: 50, maxAgeHours: 48 }, at)).toBeNull();
    expect(evaluateDeal(old, { minDiscount: 50 }, at)).not.toBeNull();
  });
});

describe('notification text', () => {
  const o = (title: string, url = 'https://example.com/d'): OpportunityRecord => ({
    ...deal,
    title,
    url,
    estimate: 398,
    discount: 150,
    discount_pct: 37.69,
    rule: 'discount>50',
    estimator_breakdown: '[]',
    evaluated_at: '2026-11-22T10:00:01.000Z',
  });
  it('is at most 200 characters, keeps price, estimate, discount and url', () => {
    const short = renderMessage(o('Sony OK-2741 Headphones'));
    expect(short).toBe(
      'Deal Alert! $248 (est. $398, save $150): Sony OK-2741 Headphones https://example.com/d',
    );
    const long = renderMessage(o('Ünïcödé™ '.repeat(40)));
    expect([...long].length).toBeLessThanOrEqual(200);
    expect(long).toMatch(/… https:\/\/example\.com\/d$/);
    const hugeUrl = renderMessage(o('Thing', `https://example.com/${'x'.repeat(300)}`));
    expect([...hugeUrl].length).toBeLessThanOrEqual(200);
  });
  it('links to the published link with only the tracking parameters removed', () => {
    const link = (l: string) => clickLink({ link: l, url: 'https://example.com/normalized' });
    expect(
      link(
        'https://www.Shop.example/Path/Item-X.html?iref=rss-c142&color=Red&utm_source=rss&UTM_Medium=f#top',
      ),
    ).toBe('https://www.Shop.example/Path/Item-X.html?color=Red#top');
    expect(link('https://www.dealnews.com/products/a/1.html?iref=rss-c142')).toBe(
      'https://www.dealnews.com/products/a/1.html',
    );
    expect(link('http://shop.example/B?b=2&a=1&fbclid=x')).toBe('http://shop.example/B?b=2&a=1');
    expect(link('  ')).toBe('https://example.com/normalized');
    const m = renderMessage({ ...o('Sony'), link: 'https://www.Sony.example/OK-2741?ref=feed&sku=9' });
    expect(m).toBe('Deal Alert! $248 (est. $398, save $150): Sony https://www.Sony.example/OK-2741?sku=9');
  });
});

describe('rate limiter and retries', () => {
  it('spaces acquisitions evenly', () => {
    const r = new RateLimiter(120); // one per 500 ms
    expect([r.reserve(1000), r.reserve(1000), r.reserve(1000), r.reserve(3000)]).toEqual([0, 500, 1000, 0]);
  });
  it('retries transient failures 3 times, then gives up with the attempt count', async () => {
    let calls = 0;
    const policy = { attempts: 3, initialDelayMs: 1, maxDelayMs: 4 };
    await expect(
      withRetry(policy, async () => {
        calls++;
        throw Object.assign(new Error('boom'), { retriable: true });
      }),
    ).rejects.toMatchObject({ attempts: 4 });
    expect(calls).toBe(4);
    calls = 0;
    await expect(
      withRetry(policy, async () => {
        calls++;
        throw new Error('bad request');
      }),
    ).rejects.toMatchObject({ attempts: 1 });
    expect(calls).toBe(1);
    // By type, not message: a real fetch failure (connection refused: cause.code ECONNREFUSED) is
    // transient; a TypeError from a bug, or an error that only mentions HTTP, is not.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect(isTransient(refused)).toBe(true);
    expect(isTransient(new TypeError('fetch failed'))).toBe(false);
    expect(isTransient(new Error('HTTP 503 from upstream'))).toBe(false);
  });
});

describe('PartitionStore', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  it('survives a restart, a torn last line, and compacts', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pstore-'));
    const a = new PartitionStore<{ n: number }>(dir, 'x');
    a.putAll(0, [
      ['k1', { n: 1 }],
      ['k2', { n: 2 }],
    ]);
    a.putAll(0, [['k1', { n: 3 }]]);
    appendFileSync(path.join(dir, 'x', 'p0.jsonl'), '{"k":"k9","v":'); // crash mid-write
    const b = new PartitionStore<{ n: number }>(dir, 'x');
    expect(b.get(0, 'k1')).toEqual({ n: 3 });
    expect(b.get(0, 'k2')).toEqual({ n: 2 });
    expect(b.get(0, 'k9')).toBeUndefined();
    expect(b.get(1, 'k1')).toBeUndefined();
    b.compact(0, (v) => v.n > 2, 1);
    const c = new PartitionStore<{ n: number }>(dir, 'x');
    expect(c.get(0, 'k1')).toEqual({ n: 3 });
    expect(c.get(0, 'k2')).toBeUndefined();
  });
});
