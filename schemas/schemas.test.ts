import { describe, expect, it } from 'vitest';
import { arrowSchemaOf } from './derive/arrow.ts';
import {
  compiledValidatorOf,
  Deal,
  defineRecord,
  EnrichedDeal,
  field,
  glueColumnsOf,
  jsonSchemaOf,
  openSearchMappingOf,
  Product,
  ProductVector,
  quoteIdent,
  RECORDS,
  sqlColumnListOf,
  sqlColumnsOf,
  sqlDdlOf,
  sqlEmptyRelationOf,
  sqlProjectionOf,
  VectorExport,
  validate,
} from './index.ts';

const deal = {
  deal_id: 'abcdef0123456789',
  url: 'https://dealnews.com/products/x/1.html',
  link: 'https://www.dealnews.com/products/x/1.html?iref=rss-c142',
  title: 'Sony WH-1000XM5',
  description: 'Noise canceling headphones',
  price: 248,
  price_kind: 'exact',
  list_price: null,
  category: 'Electronics',
  source: 'dealnews-electronics',
  retailer: null,
  event_time: '2026-11-22T10:00:00.000Z',
  seen_at: '2026-11-22T10:05:00.000Z',
  expires_at: null,
};

describe('schemas: one definition, every target derived', () => {
  it('validates a good record and names each problem of a bad one', () => {
    expect(validate(Deal, deal).ok).toBe(true);
    const bad = validate(Deal, { ...deal, price: 0, price_kind: 'guess', event_time: 'yesterday', extra: 1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.issues.map((i) => i.path).sort()).toEqual(
        ['(record)', 'event_time', 'price', 'price_kind'].sort(),
      );
  });

  it('treats absent nullable fields as null', () => {
    const { list_price, retailer, expires_at, ...rest } = deal;
    void list_price;
    void retailer;
    void expires_at;
    const v = validate(Deal, rest);
    expect(v.ok && v.value.list_price).toBe(null);
  });

  it('derives Arrow schemas with the declared nullability and order', () => {
    const s = arrowSchemaOf(Deal);
    expect(s.fields.map((f) => f.name)).toEqual(Object.keys(Deal.fields));
    expect(s.fields.find((f) => f.name === 'price')?.nullable).toBe(false);
    expect(s.fields.find((f) => f.name === 'list_price')?.nullable).toBe(true);
    expect(String(s.fields.find((f) => f.name === 'event_time')?.type)).toMatch(/Timestamp/);
  });

  it('derives DDL for DuckDB and Spark with matching types', () => {
    expect(sqlDdlOf(Product, 'duckdb')).toContain('price DOUBLE NOT NULL');
    expect(sqlDdlOf(Product, 'spark')).toContain('USING parquet');
    expect(sqlProjectionOf(Deal, 'spark')).toContain('CAST(event_time AS TIMESTAMP_NTZ) AS event_time');
    expect(sqlProjectionOf(Deal, 'duckdb')).toContain('CAST(event_time AS TIMESTAMP) AS event_time');
  });

  it('derives JSON Schema, OpenSearch mappings and Glue columns for every record', () => {
    for (const def of Object.values(RECORDS)) {
      const js = jsonSchemaOf(def) as { properties: Record<string, unknown>; required: string[] };
      expect(Object.keys(js.properties)).toEqual(Object.keys(def.fields));
      const os = openSearchMappingOf(def) as { properties: Record<string, { type: string }> };
      expect(Object.keys(os.properties)).toEqual(Object.keys(def.fields));
      expect(glueColumnsOf(def).map((c) => c.Name)).toEqual(Object.keys(def.fields));
    }
    const mapping = openSearchMappingOf(EnrichedDeal) as { properties: Record<string, { type: string }> };
    expect(mapping.properties.title?.type).toBe('text');
    expect(mapping.properties.deal_id?.type).toBe('keyword');
    expect(glueColumnsOf(Deal).find((c) => c.Name === 'event_time')?.Type).toBe('timestamp');
  });

  it('stores vectors as f32le BLOBs when asked, and derives scratch-table DDL and empty relations', () => {
    expect(sqlColumnListOf(ProductVector, 'duckdb', { vectors: 'f32le' }).at(-1)).toMatchObject({
      name: 'embedding_f32le',
      field: 'embedding',
      type: 'BLOB',
      notNull: true,
    });
    expect(sqlColumnsOf(VectorExport, 'spark', { vectors: 'f32le' })).toContain('embedding_f32le BINARY');
    expect(sqlColumnsOf(VectorExport, 'duckdb', { notNull: false })).not.toContain('NOT NULL');
    expect(sqlDdlOf(VectorExport, 'duckdb', '_export', { temporary: true })).toMatch(
      /^CREATE OR REPLACE TEMP TABLE _export \(/,
    );
    expect(() => sqlDdlOf(VectorExport, 'spark', 'x', { temporary: true })).toThrow(/DuckDB/);
    expect(sqlEmptyRelationOf(Product, 'duckdb', { dt: 'DATE' })).toBe(
      'SELECT CAST(NULL AS VARCHAR) AS "product_id", CAST(NULL AS VARCHAR) AS "title", CAST(NULL AS VARCHAR) AS "description", CAST(NULL AS VARCHAR) AS "category", CAST(NULL AS DOUBLE) AS "price", CAST(NULL AS DATE) AS "dt" WHERE 1 = 0',
    );
    expect(quoteIdent('check', 'spark')).toBe('`check`');
    // An export's embedding has no fixed length: a variable list in Arrow and SQL.
    expect(String(arrowSchemaOf(VectorExport).fields.at(-1)?.type)).toMatch(/^List<Float32>$/);
    expect(String(arrowSchemaOf(ProductVector).fields.at(-1)?.type)).toMatch(
      /^FixedSizeList\[384\]<Float32>$/,
    );
  });

  it('a field added to a record reaches every derivation', () => {
    const Extended = defineRecord({
      ...Deal,
      key: ['deal_id'],
      fields: { ...Deal.fields, original_url: field.string('Link exactly as published.').nullable_() },
    });
    const name = 'original_url';
    expect(arrowSchemaOf(Extended).fields.map((f) => f.name)).toContain(name);
    expect(sqlDdlOf(Extended, 'duckdb')).toContain(`${name} VARCHAR`);
    expect(sqlDdlOf(Extended, 'spark')).toContain(`${name} STRING`);
    expect(sqlProjectionOf(Extended, 'spark')).toContain(`CAST(${name} AS STRING) AS ${name}`);
    expect(sqlEmptyRelationOf(Extended, 'duckdb')).toContain(`CAST(NULL AS VARCHAR) AS "${name}"`);
    expect(Object.keys((jsonSchemaOf(Extended) as { properties: object }).properties)).toContain(name);
    expect(Object.keys((openSearchMappingOf(Extended) as { properties: object }).properties)).toContain(name);
    expect(glueColumnsOf(Extended).map((c) => c.Name)).toContain(name);
    const v = validate(Extended, { ...deal, original_url: 'https://dealnews.com/x?utm=1' });
    expect(v.ok && v.value.original_url).toBe('https://dealnews.com/x?utm=1');
    expect(validate(Extended, { ...deal, original_url: 7 }).ok).toBe(false);
    expect(validate(Deal, { ...deal, original_url: 'x' }).ok).toBe(false);
    expect(compiledValidatorOf(Extended)?.({ ...deal, original_url: null })).toHaveProperty(name, null);
  });
});
