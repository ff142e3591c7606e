import { describe, expect, it } from 'vitest';
import { SmileWriter, smileBulkBody } from './smile.ts';

describe('SMILE bulk encoding', () => {
  it('writes float32 as a token + five 7-bit groups of the IEEE bits (bit-exact, -0 and subnormals too)', () => {
    const w = new SmileWriter(4);
    w.float32Array(new Float32Array([1, -0, 1.401298464324817e-45]));
    // 1.0f = 0x3f800000; -0f = 0x80000000; min subnormal = 0x00000001
    expect([...w.bytes()]).toEqual([
      0xf8, 0x28, 0x03, 0x7c, 0x00, 0x00, 0x00, 0x28, 0x08, 0x00, 0x00, 0x00, 0x00, 0x28, 0, 0, 0, 0, 1, 0xf9,
    ]);
  });

  it('writes float64 as a token + ten 7-bit groups (1 + 9 × 7 bits)', () => {
    const w = new SmileWriter();
    w.float64(1); // 0x3ff0000000000000
    expect([...w.bytes()]).toEqual([0x29, 0x00, 0x3f, 0x78, 0, 0, 0, 0, 0, 0, 0]);
    w.reset();
    w.float64(-2); // 0xc000000000000000
    expect([...w.bytes()]).toEqual([0x29, 0x01, 0x40, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('encodes strings by length and charset, and separates documents with 0xFF only', () => {
    const w = new SmileWriter(8);
    w.string('');
    w.string(null);
    w.string('ab');
    w.string('é');
    w.string('x'.repeat(40));
    w.string('y'.repeat(70));
    const b = [...w.bytes()];
    expect(b.slice(0, 5)).toEqual([0x20, 0x21, 0x41, 0x61, 0x62]);
    expect(b.slice(5, 8)).toEqual([0x80, 0xc3, 0xa9]);
    expect(b[8]).toBe(0x60 + 40 - 33);
    expect(b[49]).toBe(0xe0);
    expect(b.at(-1)).toBe(0xfc);
    const docs = Array.from({ length: 50 }, (_, i) => ({
      id: `doc_${i}`,
      document: i % 2 ? null : `Produkt ${i} – größer`,
      category: 'Electronics',
      price: i + 0.99,
      metadata: '{"category":"Electronics"}',
      embedding: Float32Array.from({ length: 384 }, (_, j) => Math.sin(i * 384 + j) * 1e3),
    }));
    const body = smileBulkBody('products-v1', docs, new SmileWriter(16));
    expect(body.filter((x) => x === 0xff)).toHaveLength(100);
    expect(body.subarray(0, 4)).toEqual(Buffer.from([0x3a, 0x29, 0x0a, 0x00]));
  });
});
