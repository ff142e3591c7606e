import { describe, expect, it } from 'vitest';
import {
  arrowSchemaOf,
  Deal,
  EnrichedDeal,
  glueColumnsOf,
  jsonSchemaOf,
  openSearchMappingOf,
  Product,
  RECORDS,
  sqlDdlOf,
  sqlProjectionOf,
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
});
