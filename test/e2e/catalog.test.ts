/**
 * `dealctl catalog import`: the prototype's item shape without flags, a CSV with a column mapping,
 * bad rows kept aside with reasons, stable ids, versions, and a re-import that changes nothing.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { parquet, readRows, type TempLake, tempLake } from '../support/lake.ts';

interface Report {
  version: string;
  status: string;
  rows: number;
  imported: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  rejectedFile: string | null;
}

describe('dealctl catalog import', () => {
  let t: TempLake;
  let items = '';
  let csv = '';
  const products = () =>
    readRows(
      `SELECT product_id, title, description, category, price FROM ${parquet(path.join(t.root, 'catalog/products/*.parquet'))} ORDER BY title`,
    );
  const importJson = async (...files: string[]) => {
    const r = await runCli(['--lake', t.root, 'catalog', 'import', ...files, '--json']);
    return { ...r, report: r.code === 0 ? (JSON.parse(r.out) as Report) : null };
  };

  beforeAll(() => {
    t = tempLake('dealfinder-catalog-');
    // The prototype's items: description and features are lists, details an object, prices text or numbers.
    items = path.join(t.root, 'items.jsonl');
    writeFileSync(
      items,
      [
        {
          parent_asin: 'B0C1',
          title: 'Sony WH-1000XM5 Headphones',
          description: ['Industry-leading noise canceling.'],
          features: ['30-hour battery', 'Multipoint'],
          details: { Brand: 'Sony', Color: 'Black' },
          main_category: 'Electronics',
          price: '$399.99',
        },
        {
          parent_asin: 'B0C2',
          title: 'Garmin DriveSmart 66',
          description: [],
          features: ['6" display'],
          details: {},
          main_category: 'Automotive',
          price: 249.99,
        },
        {
          parent_asin: 'B0C3',
          title: 'Moto G Stylus Case',
          description: ['Slim case'],
          features: [],
          details: {},
          main_category: 'Cell Phones & Accessories',
          price: '1,049.00',
        },
        {
          parent_asin: 'B0C4',
          title: '',
          description: ['No title'],
          features: [],
          details: {},
          main_category: 'Electronics',
          price: '$10',
        },
        {
          parent_asin: 'B0C5',
          title: 'Yoga Mat',
          description: ['Thick'],
          features: [],
          details: {},
          main_category: 'Sports_and_Outdoors',
          price: '$25',
        },
        {
          parent_asin: 'B0C6',
          title: 'Fender Strings',
          description: ['Nickel'],
          features: [],
          details: {},
          main_category: 'Musical_Instruments',
          price: 'Call for price',
        },
        {
          parent_asin: 'B0C7',
          title: 'Broken Toaster',
          description: ['As is'],
          features: [],
          details: {},
          main_category: 'Appliances',
          price: -5,
        },
        {
          parent_asin: 'B0C1',
          title: 'Sony WH-1000XM5 Headphones (again)',
          description: [],
          features: [],
          details: {},
          main_category: 'Electronics',
          price: '$389',
        },
        {
          parent_asin: 'B0C8',
          title: 'Office Chair',
          description: ['Mesh'],
          features: [],
          details: {},
          main_category: 'Office_Products',
          price: null,
        },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    csv = path.join(t.root, 'shop-export.csv');
    writeFileSync(
      csv,
      'name,blurb,cost\n"JBL Flip 7 Speaker","Waterproof, 14 h",129.95\n"Anker Nano Charger",65W GaN,$35.99\n',
    );
  });
  afterAll(() => t?.cleanup());

  it('reads the prototype item shape without flags and keeps every bad row aside with its reason', async () => {
    const { code, err, report } = await importJson(items);
    expect(code, err).toBe(0);
    expect(report).toMatchObject({ status: 'imported', rows: 9, imported: 3, rejected: 6 });
    expect(report!.rejectedByReason).toEqual({
      missing_title: 1,
      unknown_category: 1,
      unparseable_price: 1,
      non_positive_price: 1,
      duplicate_product: 1,
      missing_price: 1,
    });
    expect(await products()).toEqual([
      {
        product_id: 'B0C2',
        title: 'Garmin DriveSmart 66',
        description: '6" display',
        category: 'Automotive',
        price: 249.99,
      },
      {
        product_id: 'B0C3',
        title: 'Moto G Stylus Case',
        description: 'Slim case',
        category: 'Cell_Phones_and_Accessories',
        price: 1049,
      },
      {
        product_id: 'B0C1',
        title: 'Sony WH-1000XM5 Headphones',
        description: 'Industry-leading noise canceling. 30-hour battery Multipoint Brand: Sony; Color: Black',
        category: 'Electronics',
        price: 399.99,
      },
    ]);
    const kept = readFileSync(report!.rejectedFile!, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { reason: string; row: number; message: string; record: { parent_asin: string } },
      );
    expect(kept.map((k) => [k.row, k.reason, k.record.parent_asin])).toEqual([
      [4, 'missing_title', 'B0C4'],
      [5, 'unknown_category', 'B0C5'],
      [6, 'unparseable_price', 'B0C6'],
      [7, 'non_positive_price', 'B0C7'],
      [8, 'duplicate_product', 'B0C1'],
      [9, 'missing_price', 'B0C8'],
    ]);
    expect(kept[1]!.message).toMatch(/"Sports_and_Outdoors" is not one of Appliances, Automotive/);
  });

  it('importing the same content again changes nothing', async () => {
    const before = readdirSync(path.join(t.root, 'catalog', 'versions'));
    const { report } = await importJson(items);
    expect(report).toMatchObject({ status: 'unchanged', imported: 3 });
    expect(readdirSync(path.join(t.root, 'catalog', 'versions'))).toEqual(before);
  });

  it('a CSV with its own column names is mapped by flags, and becomes a new version in force', async () => {
    const r = await runCli([
      '--lake',
      t.root,
      'catalog',
      'import',
      csv,
      '--title-column',
      'name',
      '--description-column',
      'blurb',
      '--price-column',
      'cost',
      '--category',
      'Electronics',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Imported version \d{8}T\d{6}Z-[0-9a-f]{8}: 2 products from 2 rows; 0 rejected/);
    const now = await products();
    expect(now.map((p) => [p.title, p.price, p.category])).toEqual([
      ['Anker Nano Charger', 35.99, 'Electronics'],
      ['JBL Flip 7 Speaker', 129.95, 'Electronics'],
    ]);
    // No id column: the id is a hash of what identifies the product, the same on every import.
    expect(now.every((p) => /^p-[0-9a-f]{16}$/.test(String(p.product_id)))).toBe(true);
    const versions = await runCli(['--lake', t.root, 'catalog', 'versions', '--json']);
    expect((JSON.parse(versions.out) as unknown[]).length).toBe(2);
  });

  it('refuses a mapping to a column the file lacks, and a file with no valid product, leaving the catalog as it was', async () => {
    const bad = await runCli(['--lake', t.root, 'catalog', 'import', csv, '--price-column', 'amount']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error\[catalog-import-failed\]: .*has no column "amount" \(--price-column\)/);
    expect(bad.err).toMatch(/hint: its columns are: name, blurb, cost/);
    const empty = await runCli(['--lake', t.root, 'catalog', 'import', csv]); // no title column → nothing valid
    expect(empty.code).toBe(4);
    expect(empty.err).toMatch(/no valid product/);
    expect((await products()).length).toBe(2);
    expect(existsSync(path.join(t.root, '_staging'))).toBe(false);
  });
});
