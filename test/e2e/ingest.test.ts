/**
 * `dealctl ingest` of a feed in real DealNews / Slickdeals item shapes, then the nightly for its
 * day: the deals and quarantine rows a person reading the feed would expect. Also JSON lines with
 * a record that does not fit (kept aside with its reason) and a source that is not a feed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listParquet } from '../../core/lake.ts';
import { runCli } from '../support/cli.ts';
import { parquet, readRows, type TempLake, tempLake } from '../support/lake.ts';

const FEED = path.resolve(import.meta.dirname, '..', 'fixtures', 'feeds', 'mixed-real-shapes.xml');
const DATE = '2026-11-22';
const SEEN = `${DATE}T18:00:00Z`;

describe('dealctl ingest → nightly', () => {
  let t: TempLake;
  beforeAll(async () => {
    t = tempLake('dealfinder-ingest-');
    // A small catalog and an earlier day, so the nightly has what a real lake has.
    const seeded = await runCli([
      '--lake',
      t.root,
      'sample',
      '--days',
      '1',
      '--end-date',
      '2026-11-21',
      '--raw-deals',
      '200',
      '--products',
      '300',
      '--seed',
      '5',
    ]);
    expect(seeded.code, seeded.err).toBe(0);
  });
  afterAll(() => t?.cleanup());

  it('lands every feed entry in the raw zone of the day it was seen; re-ingesting replaces, never duplicates', async () => {
    const args = [
      '--lake',
      t.root,
      'ingest',
      FEED,
      '--feed',
      'dealnews-electronics',
      '--category',
      'Electronics',
      '--seen-at',
      SEEN,
      '--json',
    ];
    const first = await runCli(args);
    expect(first.code, first.err).toBe(0);
    const [report] = JSON.parse(first.out) as {
      status: string;
      kind: string;
      entries: number;
      landed: { date: string; rows: number; file: string }[];
      rejected: number;
    }[];
    expect(report).toMatchObject({ status: 'landed', kind: 'feed', entries: 10, rejected: 0 });
    expect(report!.landed.map((l) => [l.date, l.rows])).toEqual([[DATE, 10]]);
    expect((await runCli(args)).code).toBe(0);
    const files = listParquet(t.lake.partitionDir('raw_deals', DATE)).filter((f) =>
      path.basename(f).startsWith('ingest-'),
    );
    expect(files).toEqual([report!.landed[0]!.file]);
    const rows = await readRows(`SELECT count(*)::INT AS n FROM ${parquet(files[0]!)}`);
    expect(rows).toEqual([{ n: 10 }]);
  });

  it('the nightly for that day keeps the three priced products once each and quarantines the rest with reasons', async () => {
    const run = await runCli(['--lake', t.root, 'nightly', '--date', DATE, '--json']);
    expect([0, 3], run.err).toContain(run.code); // 3: a data-quality check failed on a 10-row day — still a finished run
    const deals = await readRows(
      `SELECT title, price, retailer FROM ${parquet(path.join(t.root, `deals/dt=${DATE}/*.parquet`))} WHERE source = 'dealnews-electronics' ORDER BY price`,
    );
    expect(deals).toEqual([
      { title: 'Apple AirPods Pro 2 (USB-C)', price: 169, retailer: null },
      {
        title: 'Sony WH-1000XM5 Wireless Noise Canceling Headphones',
        price: 278,
        retailer: 'Amazon',
      },
      {
        title: 'LG 65" OLED evo C5 4K Smart TV', // the offer text is not part of the product's name
        price: 1499.99,
        retailer: 'Best Buy',
      },
    ]);
    const quarantined = await readRows(
      `SELECT error_code, json_extract_string(original, '$.title') AS title FROM ${parquet(path.join(t.root, `quarantine/dt=${DATE}/step=cleanup/*.parquet`))} WHERE source LIKE '%/ingest-mixed-real-shapes-%' ORDER BY error_code, title`,
    );
    expect(quarantined).toEqual([
      // A store-wide sale whose title says "Up to 49% off": the discount rule speaks first.
      { error_code: 'discount_not_price', title: 'Best Buy Black Friday Deals: Up to 49% off' },
      { error_code: 'discount_not_price', title: 'Samsung Galaxy S26 Ultra: up to $350 off w/ trade-in' },
      { error_code: 'expired', title: 'Bose QuietComfort Ultra Earbuds for $229 + free shipping' },
      { error_code: 'from_price', title: 'Anker USB-C Cables from $1' },
      { error_code: 'missing_field', title: null },
      { error_code: 'non_positive_price', title: 'Amazon Music Unlimited 3-Month Trial: Free' },
    ]);
  });

  it('keeps records that do not fit aside with the reason, and reports a source that is not a feed without stopping the others', async () => {
    const dir = t.root;
    const good = {
      raw_id: 'j1',
      feed: 'api',
      title: 'Kindle Paperwhite for $99',
      summary: null,
      url: 'https://example.com/kindle',
      price_text: '$99',
      retailer: null,
      deal_type: null,
      category_hint: null,
      published_at: null,
      expires_at: null,
      seen_at: '2026-11-23T08:00:00.000Z',
    };
    const jsonl = path.join(dir, 'api-export.jsonl');
    writeFileSync(
      jsonl,
      [JSON.stringify(good), JSON.stringify({ ...good, raw_id: 'j2', seen_at: 'yesterday' })].join('\n'),
    );
    const html = path.join(dir, 'not-a-feed.xml');
    writeFileSync(html, '<!DOCTYPE html><html><body><p>Service Unavailable<br></p></body></html>');
    const r = await runCli(['--lake', t.root, 'ingest', jsonl, html, '--json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error\[ingest-failed\]: .*not-a-feed\.xml: 1 of 2 source\(s\) could not be ingested/m,
    );
    const [api, page] = JSON.parse(r.out) as {
      status: string;
      landed: { date: string; rows: number }[];
      rejected: number;
      rejectedFile?: string;
      error?: string;
    }[];
    expect(api).toMatchObject({ status: 'landed', rejected: 1 });
    expect(api!.landed.map((l) => [l.date, l.rows])).toEqual([['2026-11-23', 1]]);
    const kept = JSON.parse(readFileSync(api!.rejectedFile!, 'utf8').trim()) as {
      reason: string;
      record: { raw_id: string };
    };
    expect(kept.record.raw_id).toBe('j2');
    expect(kept.reason).toMatch(/^seen_at: /);
    expect(page).toMatchObject({ status: 'failed' });
    expect(page!.error).toMatch(/not an RSS\/Atom feed: malformed XML/);
  });
});
