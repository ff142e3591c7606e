import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logging.ts';
import { runNightly } from '../pipelines/index.ts';
import { landRawDeals } from '../samples/ingest.ts';
import type { RawDealRecord } from '../schemas/index.ts';
import { parquet, readRows, type TempLake, tempLake } from '../test/support/lake.ts';
import { DuckDbEngine, duckDbSettings } from './index.ts';

const DATE = '2026-11-22';
let n = 0;
function raw(over: Partial<RawDealRecord>): RawDealRecord {
  n++;
  return {
    raw_id: `r${String(n).padStart(3, '0')}`,
    feed: 'dealnews-electronics',
    title: `Thing ${n}`,
    summary: null,
    url: `https://www.dealnews.com/products/thing/${n}.html?iref=rss-c142`,
    price_text: null,
    retailer: null,
    deal_type: 'Deal',
    category_hint: 'Electronics',
    published_at: `${DATE}T08:00:00.000Z`,
    expires_at: null,
    seen_at: `${DATE}T09:${String(n % 60).padStart(2, '0')}:00.000Z`,
    ...over,
  };
}

// [price_text, title, deal_type, expected price | expected quarantine code]
const CASES: [string | null, string, string, number | string][] = [
  ['$1,299.99', 'LG TV for $1,299.99', 'Deal', 1299.99],
  ['$19', 'Cable', 'Deal', 19],
  [' $ 7.50 ', 'Mouse', 'Deal', 7.5],
  [null, 'Sony Headphones for $248 + free shipping', 'Deal', 248],
  ['2 for $30', 'Socks', 'Deal', 15],
  ['from $19', 'Shirts', 'Deal', 'from_price'],
  [null, 'Anker Cables from $1', 'Deal', 'from_price'],
  ['Free', 'Music trial', 'Deal', 'non_positive_price'],
  ['$0.00', 'Sample', 'Deal', 'non_positive_price'],
  ['-$5.00', 'Refund', 'Deal', 'non_positive_price'],
  ['$350 off', 'Phone', 'Deal', 'discount_not_price'],
  [null, 'Samsung Galaxy S26: up to $350 off w/ trade-in', 'Deal', 'discount_not_price'],
  [null, 'Best Buy Deals: Up to 49% off', 'Sale', 'discount_not_price'],
  [null, 'Target Holiday Sale Event', 'Sale', 'sale_without_price'],
  [null, 'Roku Streaming Stick', 'Deal', 'missing_price'],
  ['Call for price', 'Piano', 'Deal', 'unparseable_price'],
  ['$999,999.99', 'Gold TV', 'Deal', 'implausible_price'],
  // Unicode blanks around a price (no-break, thin, narrow no-break, ideographic space) are blanks.
  ['\u00a0$4.00\u00a0', 'Nbsp price', 'Deal', 4],
  ['\u2009$5.25\u202f', 'Thin price', 'Deal', 5.25],
  ['\u3000$6\u3000', 'Ideographic price', 'Deal', 6],
  ['$1e3', 'Scientific', 'Deal', 'unparseable_price'],
  [null, 'Upper TV FOR $7', 'Deal', 7],
  [null, 'Store-wide event', 'SALE', 'sale_without_price'],
];

describe('cleanup: telling a price from a discount, a sale and a from-price', () => {
  let t: TempLake;
  let deals: Record<string, unknown>[];
  let quarantine: Record<string, unknown>[];
  const ids: string[] = [];
  const boundary: Partial<Record<'atSeen' | 'justBefore', RawDealRecord>> = {};

  beforeAll(async () => {
    t = tempLake();
    const records = CASES.map(([price_text, title, deal_type]) => raw({ price_text, title, deal_type }));
    ids.push(...records.map((r) => r.raw_id));
    records.push(
      raw({ url: null }),
      raw({ title: null }),
      raw({ price_text: '$10', expires_at: `${DATE}T01:00:00.000Z` }),
    );
    // The expiry boundary: expired means expires_at strictly before seen_at.
    boundary.atSeen = raw({
      price_text: '$12',
      title: 'Expires when seen',
      seen_at: `${DATE}T12:00:00.000Z`,
    });
    boundary.atSeen.expires_at = boundary.atSeen.seen_at;
    boundary.justBefore = raw({
      price_text: '$13',
      title: 'Expired a millisecond before',
      seen_at: `${DATE}T12:00:00.000Z`,
      expires_at: `${DATE}T11:59:59.999Z`,
    });
    records.push(boundary.atSeen, boundary.justBefore);
    // The same deal in a second feed with another tracking suffix, seen later: a duplicate.
    records.push(
      raw({
        price_text: '$99',
        title: 'Dup',
        url: 'https://www.dealnews.com/products/dup/1.html?iref=rss-c142',
        seen_at: `${DATE}T10:00:00.000Z`,
      }),
    );
    records.push(
      raw({
        price_text: '$99',
        title: 'Dup',
        url: 'http://dealnews.com/products/dup/1.html?iref=rss-c39',
        seen_at: `${DATE}T11:00:00.000Z`,
        feed: 'dealnews-computers',
      }),
    );
    records.push(
      raw({
        price_text: '$5',
        summary: '&lt;p&gt;Now $5, down from $9.99 &amp;amp; more&lt;/p&gt;',
        title: 'Html',
      }),
    );
    // Url identity: case-insensitive scheme and host, www. dropped in any case, the path kept as it
    // is, tracking parameters dropped, the rest of the query sorted.
    records.push(
      raw({
        price_text: '$30',
        title: 'Url A',
        url: ' https://WWW.Example.COM/Path/Item/?b=2&utm_source=rss&a=1#frag',
      }),
      raw({
        price_text: '$30',
        title: 'Url A again',
        url: 'http://www.example.com/Path/Item?a=1&fbclid=x&b=2',
        seen_at: `${DATE}T23:00:00.000Z`,
      }),
      raw({ price_text: '$30', title: 'Url lower path', url: 'https://example.com/path/item?a=1&b=2' }),
      raw({
        price_text: '$1',
        title: 'Url tracking only',
        url: 'https://Shop.Example/x?utm_medium=a&ref=b&IREF=c',
      }),
    );
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await landRawDeals(conn, t.lake, DATE, 'unit', records);
    conn.closeSync();
    db.closeSync();
    const engine = await DuckDbEngine.create(duckDbSettings(t.config));
    const s = await runNightly({
      date: DATE,
      engine,
      config: t.config,
      lake: t.lake,
      log: createLogger({}, 'silent'),
      only: ['cleanup'],
    });
    await engine.close();
    expect(s.error?.message).toBeUndefined();
    deals = await readRows(`SELECT * FROM ${parquet(path.join(t.root, 'deals/*/*.parquet'))}`);
    quarantine = await readRows(`SELECT * FROM ${parquet(path.join(t.root, 'quarantine/*/*/*.parquet'))}`);
  });
  afterAll(() => t.cleanup());

  it.each(CASES.map((c, i) => [i, ...c] as const))('case %i: %s / %s', (i, _pt, _title, _type, expected) => {
    const id = ids[i];
    const q = quarantine.find((r) => r.record_id === id);
    if (typeof expected === 'number') {
      expect(q, `quarantined as ${q?.error_code}: ${q?.message}`).toBeUndefined();
      expect(
        deals.find((d) => String(d.title).startsWith(CASES[i]![1].split(' for ')[0]!.slice(0, 5)))?.price,
      ).toBeCloseTo(expected, 2);
    } else {
      expect(q?.error_code).toBe(expected);
      expect(String(q?.message).length).toBeGreaterThan(5);
      expect(JSON.parse(String(q?.original)).raw_id).toBe(id);
      expect(q?.source).toBe(`raw/deals/dt=${DATE}/unit.parquet`);
      expect(Number(q?.source_row)).toBe(i);
    }
  });

  it('quarantines truncated and expired records with their reason', () => {
    expect(quarantine.filter((q) => q.error_code === 'missing_field')).toHaveLength(2);
    const expired = quarantine.filter((q) => q.error_code === 'expired').map((q) => q.record_id);
    expect(expired).toHaveLength(2);
    expect(expired).toContain(boundary.justBefore?.raw_id);
  });

  it('builds the url a deal id comes from out of host, path and non-tracking query; keeps the link', () => {
    const byTitle = (title: string) => deals.find((d) => d.title === title);
    expect(byTitle('Url A')).toMatchObject({
      url: 'https://example.com/Path/Item?a=1&b=2',
      link: 'https://WWW.Example.COM/Path/Item/?b=2&utm_source=rss&a=1#frag',
    });
    expect(byTitle('Url A again')).toBeUndefined(); // the same deal, seen later
    expect(byTitle('Url lower path')?.url).toBe('https://example.com/path/item?a=1&b=2');
    expect(byTitle('Url lower path')?.deal_id).not.toBe(byTitle('Url A')?.deal_id);
    expect(byTitle('Url tracking only')?.url).toBe('https://shop.example/x');
  });

  it('expires only what expired before it was seen (expires_at == seen_at is still a deal)', () => {
    expect(quarantine.find((q) => q.record_id === boundary.atSeen?.raw_id)).toBeUndefined();
    expect(deals.find((d) => d.title === 'Expires when seen')?.price).toBe(12);
    const q = quarantine.find((r) => r.record_id === boundary.justBefore?.raw_id);
    expect(q?.error_code).toBe('expired');
    expect(q?.message).toBe('offer expired at 2026-11-22 11:59:59.999 before it was seen');
  });

  it('keeps one deal per normalized url and strips HTML and entities', () => {
    const dups = deals.filter((d) => d.title === 'Dup');
    expect(dups).toHaveLength(1);
    expect(dups[0]?.url).toBe('https://dealnews.com/products/dup/1.html');
    expect(dups[0]?.source).toBe('dealnews-electronics');
    const html = deals.find((d) => d.title === 'Html');
    expect(html?.description).toBe('Now $5, down from $9.99 & more');
    expect(html?.list_price).toBeCloseTo(9.99, 2);
  });
});

// The feed's own prices, in the shapes real DealNews items write them (docs/nightly.md):
// [title, price_text, summary, deal_type] → [price, price_source, list_price, list_price_source] | quarantine code
const REFERENCE_CASES: [
  string,
  string | null,
  string | null,
  string,
  [number, string, number | null, string | null] | string,
][] = [
  [
    'Ref Sony Headphones for $248',
    null,
    '&lt;p&gt;Now $248, down from $398.&lt;/p&gt;',
    'Deal',
    [248, 'title', 398, 'description'],
  ],
  [
    'Ref Desc Only Mug',
    null,
    '&lt;p&gt;Now $9, down from $21.99&lt;/p&gt;',
    'Deal',
    [9, 'description', 21.99, 'description'],
  ],
  [
    'Ref Pair Lamp',
    null,
    '<p>Get it for $149.99 $249.99 at Walmart</p>',
    'Deal',
    [149.99, 'description', 249.99, 'description'],
  ],
  ['Ref Drill for $99 (was $399)', null, null, 'Deal', [99, 'title', 399, 'title']],
  ['Ref Router', '$60', '<p>List $89.99 at Amazon.</p>', 'Deal', [60, 'price_text', 89.99, 'description']],
  [
    'Ref Saving Monitor for $210',
    null,
    '&lt;p&gt;That&amp;#39;s $140 off.&lt;/p&gt;',
    'Deal',
    [210, 'title', 350, 'saving'],
  ],
  ['Ref Plain Cable', '$5', '<p>A cable.</p>', 'Deal', [5, 'price_text', null, null]],
  // A discount, a sale or a from-price in the title keeps its reason even with a price in the text.
  [
    'Ref Phone: up to $350 off w/ trade-in',
    null,
    '<p>Now $599 for $350 off</p>',
    'Deal',
    'discount_not_price',
  ],
  ['Ref Store Sale Event', null, '<p>Shop now for $5 and up</p>', 'Sale', 'sale_without_price'],
  ['Ref Cables from $1', null, '<p>Now $1</p>', 'Deal', 'from_price'],
  ['Ref No Price Anywhere', null, '<p>Price too low to display; see store.</p>', 'Deal', 'missing_price'],
];

// Titles and descriptions as feeds escape them: entities once, twice, numeric, hex, named.
const ENTITY_CASES: [string, string, string, string][] = [
  [
    'Dyson V8 &#8211; Refurb for $199',
    '&lt;p&gt;Dyson&amp;#8217;s best &amp;amp; cheapest&lt;/p&gt;',
    'Dyson V8 – Refurb',
    'Dyson’s best & cheapest',
  ],
  [
    'Bose QC &amp;#8220;Ultra&amp;#8221;&#8482; for $299',
    '<p>It&#39;s &quot;quiet&quot; &hellip;&nbsp;really</p>',
    'Bose QC “Ultra”™',
    'It\'s "quiet" … really',
  ],
];

describe("cleanup: the feed's own prices and reference prices", () => {
  let t: TempLake;
  let deals: Record<string, unknown>[];
  let quarantine: Record<string, unknown>[];
  const ids: string[] = [];

  beforeAll(async () => {
    t = tempLake();
    const records = REFERENCE_CASES.map(([title, price_text, summary, deal_type]) =>
      raw({ title, price_text, summary, deal_type }),
    );
    ids.push(...records.map((r) => r.raw_id));
    records.push(...ENTITY_CASES.map(([title, summary]) => raw({ title, summary })));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await landRawDeals(conn, t.lake, DATE, 'unit', records);
    conn.closeSync();
    db.closeSync();
    const engine = await DuckDbEngine.create(duckDbSettings(t.config));
    const s = await runNightly({
      date: DATE,
      engine,
      config: t.config,
      lake: t.lake,
      log: createLogger({}, 'silent'),
      only: ['cleanup'],
    });
    await engine.close();
    expect(s.error?.message).toBeUndefined();
    deals = await readRows(`SELECT * FROM ${parquet(path.join(t.root, 'deals/*/*.parquet'))}`);
    quarantine = await readRows(`SELECT * FROM ${parquet(path.join(t.root, 'quarantine/*/*/*.parquet'))}`);
  });
  afterAll(() => t.cleanup());

  it.each(REFERENCE_CASES.map((c, i) => [i, c[0], c[4]] as const))('case %i: %s', (i, title, expected) => {
    const q = quarantine.find((r) => r.record_id === ids[i]);
    if (typeof expected === 'string') {
      expect(q?.error_code).toBe(expected);
      return;
    }
    expect(q, `quarantined as ${q?.error_code}: ${q?.message}`).toBeUndefined();
    const d = deals.find((x) => String(title).startsWith(String(x.title)));
    const [price, priceSource, listPrice, listSource] = expected;
    expect(d).toMatchObject({ price, price_source: priceSource, list_price_source: listSource });
    if (listPrice === null) expect(d?.list_price).toBeNull();
    else expect(Number(d?.list_price)).toBeCloseTo(listPrice, 2);
  });

  it.each(ENTITY_CASES)('decodes every entity of %s', (_title, _summary, title, description) => {
    expect(deals.find((d) => d.title === title)).toMatchObject({ description });
  });
});

describe('cleanup: the 24-hour dedupe against the previous day', () => {
  let t: TempLake;
  const PREV = '2026-11-21';
  const at = (date: string, hhmm: string) => `${date}T${hhmm}:00.000Z`;
  const deal = (key: string, seen_at: string, feed = 'dealnews-electronics'): RawDealRecord =>
    raw({ price_text: '$20', title: `Deal ${key}`, url: `https://www.example.com/p/${key}`, seen_at, feed });
  let day2: Record<string, unknown>[];
  let cleanupStep: { rows_in?: number | null; deduplicated?: number | null; rows_out?: number | null };

  beforeAll(async () => {
    t = tempLake();
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await landRawDeals(conn, t.lake, PREV, 'unit', [
      deal('a', at(PREV, '10:00')),
      deal('b', at(PREV, '10:00')),
      deal('c', at(PREV, '10:00')),
    ]);
    await landRawDeals(conn, t.lake, DATE, 'unit', [
      deal('a', at(DATE, '09:00')), // 23 h after yesterday's sighting: a duplicate
      deal('a', at(DATE, '12:00'), 'dealnews-computers'), // later today: a duplicate of the first
      deal('b', at(DATE, '11:00')), // 25 h after: a new observation
      deal('c', at(DATE, '10:00')), // exactly 24 h after: outside the window, a new observation
      deal('d', at(DATE, '10:00')), // new
    ]);
    conn.closeSync();
    db.closeSync();
    const engine = await DuckDbEngine.create(duckDbSettings(t.config));
    const log = createLogger({}, 'silent');
    try {
      for (const date of [PREV, DATE]) {
        const s = await runNightly({ date, engine, config: t.config, lake: t.lake, log, only: ['cleanup'] });
        expect(s.error?.message).toBeUndefined();
        if (date === DATE) cleanupStep = s.steps.find((x) => x.step === 'cleanup')!;
      }
    } finally {
      await engine.close();
    }
    day2 = await readRows(
      `SELECT title, CAST(seen_at AS VARCHAR) AS seen_at FROM ${parquet(path.join(t.root, `deals/dt=${DATE}/*.parquet`))} ORDER BY title`,
    );
  });
  afterAll(() => t.cleanup());

  it('drops a deal seen yesterday within the window, keeps those seen 24 h or more ago', () => {
    expect(day2).toEqual([
      { title: 'Deal b', seen_at: '2026-11-22 11:00:00' },
      { title: 'Deal c', seen_at: '2026-11-22 10:00:00' },
      { title: 'Deal d', seen_at: '2026-11-22 10:00:00' },
    ]);
    expect(cleanupStep).toMatchObject({ rows_in: 5, rows_out: 3, deduplicated: 2 });
  });
});
