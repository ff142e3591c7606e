import { describe, expect, it } from 'vitest';
import { vectorJson } from './load.ts';
import { distance, type ExportRow, parsePrice, sameBits, validateRow } from './records.ts';
import { spaceOf } from './source/index.ts';

const ctx = { migrationId: 'm', source: 's', batch: 1, sourceRow: 0, dimension: 3, space: 'cosine' as const };
const row = (over: Partial<ExportRow> = {}): ExportRow => {
  const r = {
    id: 'doc_1',
    document: 'a product',
    metadata: JSON.stringify({ category: 'Toys', price: 12.5 }),
    embedding: Float32Array.from([0.1, 0.2, 0.3]),
    ...over,
  };
  return { ...r, dimension: r.embedding.length };
};
const code = (r: ReturnType<typeof validateRow>) => (r.ok ? 'ok' : r.quarantine.error_code);

describe('validateRow', () => {
  it('accepts a good record and keeps the metadata text', () => {
    const r = validateRow(row(), ctx, new Set());
    expect(r.ok && r.row).toMatchObject({ id: 'doc_1', category: 'Toys', price: 12.5 });
  });

  it.each([
    [{ embedding: Float32Array.from([1, 2]) }, 'wrong_dimension'],
    [{ embedding: Float32Array.from([1, Number.NaN, 2]) }, 'non_finite_vector'],
    [{ embedding: Float32Array.from([1, Number.POSITIVE_INFINITY, 2]) }, 'non_finite_vector'],
    [{ embedding: new Float32Array(3) }, 'zero_vector'],
    [{ metadata: 'null' }, 'missing_metadata'],
    [{ metadata: '{}' }, 'missing_metadata'],
    [{ metadata: JSON.stringify({ price: 3 }) }, 'missing_category'],
    [{ metadata: JSON.stringify({ category: 'X' }) }, 'missing_price'],
    [{ metadata: JSON.stringify({ category: 'X', price: 'call us' }) }, 'unparseable_price'],
    [{ metadata: JSON.stringify({ category: 'X', price: 0 }) }, 'non_positive_price'],
    [{ id: '' }, 'missing_id'],
  ] as [Partial<ExportRow>, string][])('%j → %s', (over, expected) => {
    const r = validateRow(row(over), ctx, new Set());
    expect(code(r)).toBe(expected);
    if (!r.ok) expect(r.quarantine.message).not.toBe('');
  });

  it('zero vectors are valid under l2 and ip', () => {
    expect(
      code(validateRow(row({ embedding: new Float32Array(3) }), { ...ctx, space: 'l2' }, new Set())),
    ).toBe('ok');
  });

  it('flags a duplicate id', () => {
    const seen = new Set<string>();
    expect(code(validateRow(row(), ctx, seen))).toBe('ok');
    expect(code(validateRow(row(), ctx, seen))).toBe('duplicate_id');
  });
});

describe('helpers', () => {
  it('parses prices', () => {
    expect(parsePrice('$1,299.99')).toBe(1299.99);
    expect(parsePrice('12 USD')).toBe(12);
    expect(parsePrice(7)).toBe(7);
    expect(parsePrice('from $19')).toBeNull();
    expect(parsePrice(Number.NaN)).toBeNull();
  });

  it('compares float32 bits exactly', () => {
    const a = Float32Array.from([0.1, -0, 3]);
    expect(sameBits(a, Float32Array.from([0.1, -0, 3]))).toBe(true);
    expect(sameBits(a, Float32Array.from([0.1, 0, 3]))).toBe(false);
    // f32 → shortest f64 text → f32 is exact (what the bulk body and _source do).
    const back = Float32Array.from(JSON.parse(vectorJson(a)) as number[]);
    expect(sameBits(a, back)).toBe(true);
  });

  it('computes Chroma distances', () => {
    const x = Float32Array.from([1, 0]);
    const y = Float32Array.from([0, 1]);
    expect(distance('l2', x, y)).toBe(2);
    expect(distance('cosine', x, y)).toBe(1);
    expect(distance('ip', x, x)).toBe(0);
  });

  it('defaults to l2 when no space is configured (not cosine)', () => {
    expect(spaceOf({ configuration: {}, metadata: null })).toEqual({
      space: 'l2',
      from: expect.stringContaining('default'),
    });
    expect(spaceOf({ configuration: {}, metadata: { 'hnsw:space': 'ip' } }).space).toBe('ip');
    expect(spaceOf({ configuration: { hnsw: { space: 'cosine' } }, metadata: null }).space).toBe('cosine');
    expect(() => spaceOf({ configuration: { hnsw: { space: 'manhattan' } }, metadata: null })).toThrow(
      /unknown/,
    );
  });
});
