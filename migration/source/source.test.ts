import { describe, expect, it } from 'vitest';
import { type ChromaSource, PooledChromaSource, readInOrder, type SourceBatch } from './index.ts';

/** A source of `total` records whose reads take `delayMs` and are logged as [start, end] events. */
function slowReads(total: number, delayMs: number, log: string[]) {
  let inFlight = 0;
  let maxInFlight = 0;
  const read = async (offset: number, limit: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    log.push(`start ${offset}`);
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight--;
    log.push(`end ${offset}`);
    return Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => offset + i);
  };
  return { read, maxInFlight: () => maxInFlight };
}

describe('readInOrder', () => {
  it('hands chunks over in order with up to `window` reads in flight, and stops at a short chunk', async () => {
    const log: string[] = [];
    const src = slowReads(23, 5, log);
    const seen: number[] = [];
    await readInOrder(
      (offset) => src.read(offset, 5),
      (b) => b.length,
      5,
      3,
      (b) => {
        seen.push(...b);
      },
    );
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(src.maxInFlight()).toBe(3);
    // Nothing is read past the first short chunk's window.
    expect(log.filter((l) => l.startsWith('start')).length).toBeLessThanOrEqual(5 + 2);
  });

  it('stops on an empty chunk when the total is a multiple of the chunk, and resumes from an offset', async () => {
    const src = slowReads(20, 1, []);
    const offsets: number[] = [];
    await readInOrder(
      (offset) => src.read(offset, 5),
      (b) => b.length,
      5,
      2,
      (_b, offset) => {
        offsets.push(offset);
      },
      10,
    );
    expect(offsets).toEqual([10, 15]);
  });

  it('propagates a failed read after the reads in flight have settled', async () => {
    const settled: number[] = [];
    const read = async (offset: number) => {
      await new Promise((r) => setTimeout(r, offset === 5 ? 1 : 20));
      settled.push(offset);
      if (offset === 5) throw new Error('chunk 5 unreadable');
      return [offset];
    };
    await expect(
      readInOrder(
        read,
        () => 5,
        5,
        3,
        () => undefined,
      ),
    ).rejects.toThrow('chunk 5 unreadable');
    // The third read (offset 10, in flight when 5 failed) finished before the error surfaced.
    expect(settled).toContain(10);
  });
});

describe('PooledChromaSource', () => {
  it('sends each call to the member with the fewest calls in flight', async () => {
    const calls: string[] = [];
    const member = (name: string): ChromaSource => ({
      kind: 'path',
      location: '/x',
      collections: async () => [],
      get: async (_c, offset) => {
        calls.push(`${name}:${offset}`);
        await new Promise((r) => setTimeout(r, 10));
        return { ids: [], documents: [], metadatas: [], embeddings: [] } as SourceBatch;
      },
      getByIds: async () => ({ ids: [], documents: [], metadatas: [], embeddings: [] }),
      query: async () => ({ ids: [], distances: [] }),
      close: async () => undefined,
    });
    const pool = new PooledChromaSource([member('a')]);
    let started!: (s: ChromaSource) => void;
    pool.join(
      new Promise<ChromaSource>((r) => {
        started = r;
      }),
    );
    await pool.get('c', 0, 1);
    started(member('b'));
    await new Promise((r) => setTimeout(r, 0));
    expect(pool.size).toBe(2);
    await Promise.all([pool.get('c', 1, 1), pool.get('c', 2, 1)]);
    expect(calls).toEqual(['a:0', 'a:1', 'b:2']);
    await pool.close();
  });
});
