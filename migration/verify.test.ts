import { describe, expect, it } from 'vitest';
import { compareTopK } from './verify.ts';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('compareTopK', () => {
  const q = v(0, 0);
  // Chroma's top-2 (l2 = squared distance): a at 0, b at 1.
  const chroma = { ids: ['a', 'b'], distances: [0, 1] };

  it('counts a different id at the same distance as the k-th as a hit (ties), but reports it', () => {
    const r = compareTopK('l2', q, 2, chroma, { ids: ['a', 'c'], vectors: [v(0, 0), v(0, 1)] });
    expect(r).toEqual({ recall: 1, idRecall: 0.5, missing: ['b'], extra: ['c'] });
  });

  it('does not count a result farther than the k-th', () => {
    const r = compareTopK('l2', q, 2, chroma, { ids: ['a', 'd'], vectors: [v(0, 0), v(2, 0)] });
    expect(r.recall).toBe(0.5);
    expect(r.missing).toEqual(['b']);
  });

  it('is 1 when both agree, and when the reference is empty', () => {
    expect(compareTopK('l2', q, 2, chroma, { ids: ['a', 'b'], vectors: [v(0, 0), v(1, 0)] }).recall).toBe(1);
    expect(compareTopK('cosine', q, 2, { ids: [], distances: [] }, { ids: [], vectors: [] }).recall).toBe(1);
  });
});
