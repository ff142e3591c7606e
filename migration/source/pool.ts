/** Several readers of one directory behind one ChromaSource. */
import type { ChromaSource, QueryResult, SliceStats, SourceBatch, SourceCollection } from './types.ts';

/** Each call goes to the member with the fewest calls in flight; members that died are avoided. */
export class PooledChromaSource implements ChromaSource {
  readonly kind = 'path' as const;
  readonly location: string;
  private readonly members: { source: ChromaSource; busy: number }[];
  private readonly starting = new Set<Promise<ChromaSource | null>>();
  private closed = false;

  constructor(members: readonly [ChromaSource, ...ChromaSource[]]) {
    this.location = members[0].location;
    this.members = members.map((source) => ({ source, busy: 0 }));
  }

  /** Why extra readers failed to start (they are left out; the others serve). */
  readonly startErrors: string[] = [];

  /** Adds a reader once it has started; one that fails to start is left out (the others serve). */
  join(starting: Promise<ChromaSource>): void {
    const tracked: Promise<ChromaSource | null> = starting
      .then(async (source) => {
        if (this.closed) await source.close();
        else this.members.push({ source, busy: 0 });
        return source;
      })
      .catch((error: unknown) => {
        this.startErrors.push(error instanceof Error ? error.message : String(error));
        return null;
      })
      .finally(() => this.starting.delete(tracked));
    this.starting.add(tracked);
  }

  get size(): number {
    return this.members.length;
  }

  private on<T>(call: (s: ChromaSource) => Promise<T>): Promise<T> {
    // A member whose process died fails fast, so it would look least busy and take every call.
    const live = this.members.filter((m) => m.source.alive !== false);
    const m = (live.length ? live : this.members).reduce((a, b) => (b.busy < a.busy ? b : a));
    m.busy++;
    return call(m.source).finally(() => {
      m.busy--;
    });
  }

  collections(): Promise<SourceCollection[]> {
    return this.on((s) => s.collections());
  }

  get(collection: string, offset: number, limit: number): Promise<SourceBatch> {
    return this.on((s) => s.get(collection, offset, limit));
  }

  getByIds(collection: string, ids: string[]): Promise<SourceBatch> {
    return this.on((s) => s.getByIds(collection, ids));
  }

  query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult> {
    return this.on((s) => s.query(collection, queries, k));
  }

  stats(collection: string, offset: number, limit: number): Promise<SliceStats> {
    return this.on((s) => {
      if (!s.stats) throw new Error(`source ${s.location} computes no statistics`);
      return s.stats(collection, offset, limit);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.starting);
    await Promise.all(this.members.map((m) => m.source.close()));
  }
}
