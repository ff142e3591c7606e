/**
 * The pricing service's view of the product vectors: nearest(vector, k) served from the store the
 * flag file names (Chroma before cutover, the OpenSearch alias after it, Chroma again after a
 * rollback), re-read when the file changes, so cutover and rollback need no restart.
 *
 * Live shadow mode (`dealctl migrate shadow-mode on`, flag `shadow: true`): every query (or a
 * sampled share) is also sent to the other store off the serving path — the caller never waits
 * for it, and at most `maxShadowInFlight` comparisons run at once (the rest are counted as
 * dropped). Each pair is compared with verify's tie-aware recall (Chroma is the reference);
 * differences are appended to a JSON-lines log and counted in stats().
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { VectorStoreFlagError } from './errors.ts';
import { distance } from './records.ts';
import { type ChromaSource, openSource, type SpaceName } from './source/index.ts';
import type { VectorStoreFlag } from './switch.ts';
import { OpenSearch } from './target.ts';
import { appendDifference, compareTopK, osKnn } from './verify.ts';

export type Backend = VectorStoreFlag['backend'];

export interface Neighbours {
  /** The store that answered. */
  readonly backend: Backend;
  readonly ids: string[];
  /** In Chroma's convention for the collection's space (l2: squared distance; cosine/ip: 1 − similarity). */
  readonly distances: number[];
}

export interface VectorStoreRouterOptions {
  readonly flagFile: string;
  /** Python with chromadb, for a Chroma persistent directory. */
  readonly python?: string;
  readonly efSearch?: number;
  /** Where live-shadow differences go (default: shadow-live.jsonl beside the flag file). */
  readonly shadowLog?: string;
  readonly maxShadowInFlight?: number;
  /** Share of queries mirrored while shadow mode is on (0–1). */
  readonly shadowSampleRate?: number;
  /** How often the flag file is checked for changes. */
  readonly reloadMs?: number;
  /**
   * Per-request timeout and attempts towards OpenSearch (default 5 s, 2 attempts): a serving
   * path fails fast instead of inheriting the loader's minutes of retries.
   */
  readonly timeoutMs?: number;
  readonly attempts?: number;
}

export interface VectorStoreStats {
  readonly served: Record<Backend, number>;
  readonly shadowed: number;
  readonly differing: number;
  readonly dropped: number;
  readonly errors: number;
  /** Mean tie-aware recall@k of OpenSearch against Chroma over the shadowed queries. */
  readonly recallMean: number | null;
  readonly lastError: string | null;
}

interface RawResult {
  ids: string[];
  distances: number[];
  vectors?: Float32Array[];
}

export class VectorStoreRouter {
  private flag: VectorStoreFlag;
  private flagStamp: string;
  private checkedAt = Date.now();
  private chroma: { key: string; source: Promise<ChromaSource> } | null = null;
  /** Sources replaced by a flag change: closed once the queries already sent to them are done. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly clients = new Map<string, OpenSearch>();
  private readonly shadows = new Set<Promise<void>>();
  private readonly serving = new Set<Promise<unknown>>();
  private readonly counts = {
    served: { chroma: 0, opensearch: 0 } as Record<Backend, number>,
    shadowed: 0,
    differing: 0,
    dropped: 0,
    errors: 0,
    recallSum: 0,
    lastError: null as string | null,
  };

  private constructor(private readonly o: VectorStoreRouterOptions) {
    const { flag, stamp } = readFlag(o.flagFile);
    this.flag = flag;
    this.flagStamp = stamp;
  }

  /** Reads the flag file; refuses a missing or unreadable one with a clear error. */
  static open(o: VectorStoreRouterOptions): VectorStoreRouter {
    return new VectorStoreRouter(o);
  }

  /** The flag in force (after a reload check). */
  current(): VectorStoreFlag {
    this.reloadIfChanged();
    return this.flag;
  }

  async nearest(vector: Float32Array, k: number): Promise<Neighbours> {
    const flag = this.current();
    const pending = this.query(flag, flag.backend, vector, k, 'serve');
    this.serving.add(pending);
    let served: RawResult;
    try {
      served = await pending;
    } finally {
      this.serving.delete(pending);
    }
    this.counts.served[flag.backend]++;
    if (flag.shadow && flag.opensearch && Math.random() < (this.o.shadowSampleRate ?? 1)) {
      if (this.shadows.size >= (this.o.maxShadowInFlight ?? 4)) this.counts.dropped++;
      else {
        const other: Backend = flag.backend === 'chroma' ? 'opensearch' : 'chroma';
        const task = this.shadow(flag, other, vector, k, served).finally(() => this.shadows.delete(task));
        this.shadows.add(task);
      }
    }
    return { backend: flag.backend, ids: served.ids, distances: served.distances };
  }

  stats(): VectorStoreStats {
    const c = this.counts;
    return {
      served: { ...c.served },
      shadowed: c.shadowed,
      differing: c.differing,
      dropped: c.dropped,
      errors: c.errors,
      recallMean: c.shadowed ? c.recallSum / c.shadowed : null,
      lastError: c.lastError,
    };
  }

  /** Waits for the shadow comparisons in flight (shutdown, tests). */
  async drain(): Promise<void> {
    while (this.shadows.size) await Promise.all(this.shadows);
  }

  /** Waits for every query in flight, then closes the Chroma readers. */
  async close(): Promise<void> {
    await Promise.allSettled(this.serving);
    await this.drain();
    const current = this.chroma;
    this.chroma = null;
    if (current) await (await current.source.catch(() => null))?.close();
    await Promise.all(this.retiring);
  }

  private reloadIfChanged(): void {
    if (Date.now() - this.checkedAt < (this.o.reloadMs ?? 1000)) return;
    this.checkedAt = Date.now();
    const stamp = stampOf(this.o.flagFile);
    if (stamp === this.flagStamp) return;
    // A flag that vanished or is being rewritten keeps the last good one in force.
    try {
      const { flag, stamp: now } = readFlag(this.o.flagFile);
      this.flag = flag;
      this.flagStamp = now;
    } catch {
      /* keep serving from the last good flag */
    }
  }

  private space(flag: VectorStoreFlag): SpaceName {
    return flag.space ?? 'l2';
  }

  private chromaSource(flag: VectorStoreFlag): Promise<ChromaSource> {
    const c = flag.chroma;
    const key = [c.location, c.collection, c.tenant ?? '', c.database ?? ''].join('\u0000');
    if (this.chroma?.key !== key) {
      if (this.chroma) this.retire(this.chroma.source);
      const source = openSource({
        location: c.location,
        collection: c.collection,
        ...(c.tenant ? { tenant: c.tenant } : {}),
        ...(c.database ? { database: c.database } : {}),
        ...(this.o.python ? { python: this.o.python } : {}),
      });
      const entry = { key, source };
      this.chroma = entry;
      // A store that cannot be opened now is tried again on the next query, not cached as failed.
      source.catch(() => {
        if (this.chroma === entry) this.chroma = null;
      });
    }
    return this.chroma.source;
  }

  /** Closes a replaced source after the queries already sent to it have had time to finish. */
  private retire(source: Promise<ChromaSource>): void {
    const done: Promise<void> = Promise.allSettled(this.serving)
      .then(() => Promise.allSettled(this.shadows))
      .then(() => source)
      .then((s) => s.close())
      .catch(() => undefined)
      .finally(() => this.retiring.delete(done));
    this.retiring.add(done);
  }

  private async query(
    flag: VectorStoreFlag,
    backend: Backend,
    vector: Float32Array,
    k: number,
    purpose: 'serve' | 'shadow',
  ): Promise<RawResult> {
    if (backend === 'chroma') {
      const opened = this.chromaSource(flag);
      const source = await opened;
      try {
        const r = await source.query(flag.chroma.collection, [vector], k);
        return { ids: r.ids[0] ?? [], distances: r.distances[0] ?? [] };
      } catch (error) {
        // A reader process that died is reopened on the next query; a live one (a rejected
        // query) or a server client (stateless) is kept.
        if (source.alive === false && this.chroma?.source === opened) {
          this.retire(opened);
          this.chroma = null;
        }
        throw error;
      }
    }
    const target = flag.opensearch;
    if (!target)
      throw new VectorStoreFlagError(
        this.o.flagFile,
        `${this.o.flagFile} names no OpenSearch target`,
        'rerun `dealctl migrate cutover` or `dealctl migrate shadow-mode on`',
      );
    // Serving goes through the alias (so alias moves take effect); shadowing before cutover
    // queries the new index itself (the alias may still point at the old one).
    const index = purpose === 'serve' ? target.alias : (target.index ?? target.alias);
    let os = this.clients.get(target.url);
    if (!os) {
      os = new OpenSearch(
        target.url,
        { retries: (this.o.attempts ?? 2) - 1, minDelayMs: 100, maxDelayMs: 500 },
        this.o.timeoutMs ?? 5000,
      );
      this.clients.set(target.url, os);
    }
    const r = await osKnn(os, index, vector, k, this.o.efSearch ?? 100);
    const space = this.space(flag);
    return { ids: r.ids, distances: r.vectors.map((v) => distance(space, vector, v)), vectors: r.vectors };
  }

  private async shadow(
    flag: VectorStoreFlag,
    other: Backend,
    vector: Float32Array,
    k: number,
    served: RawResult,
  ): Promise<void> {
    try {
      // The flag moved on since this query was served: comparing against its old stores would
      // reopen them; count it as dropped instead.
      if (this.flag !== flag) {
        this.counts.dropped++;
        return;
      }
      const mirrored = await this.query(flag, other, vector, k, 'shadow');
      const [chroma, os] = other === 'opensearch' ? [served, mirrored] : [mirrored, served];
      const c = compareTopK(this.space(flag), vector, k, chroma, {
        ids: os.ids,
        vectors: os.vectors ?? [],
      });
      this.counts.shadowed++;
      this.counts.recallSum += c.recall;
      if (c.recall < 1 || c.idRecall < 1) {
        this.counts.differing++;
        await appendDifference(
          this.o.shadowLog ?? path.join(path.dirname(this.o.flagFile), 'shadow-live.jsonl'),
          {
            servedBy: flag.backend,
            recall: c.recall,
            idRecall: c.idRecall,
            missing: c.missing,
            extra: c.extra,
            chromaIds: chroma.ids,
            osIds: os.ids,
          },
        );
      }
    } catch (error) {
      this.counts.errors++;
      this.counts.lastError = error instanceof Error ? error.message : String(error);
    }
  }
}

function stampOf(file: string): string {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}

function readFlag(file: string): { flag: VectorStoreFlag; stamp: string } {
  const stamp = stampOf(file);
  let flag: VectorStoreFlag;
  try {
    flag = JSON.parse(readFileSync(file, 'utf8')) as VectorStoreFlag;
  } catch (error) {
    throw new VectorStoreFlagError(
      file,
      `cannot read the vector-store flag ${file}`,
      'the migration writes it at `shadow-mode`, `cutover` and `rollback`; check --flag-file',
      error,
    );
  }
  if ((flag.backend !== 'chroma' && flag.backend !== 'opensearch') || !flag.chroma?.location)
    throw new VectorStoreFlagError(
      file,
      `${file} is not a vector-store flag`,
      'expected {"backend": "chroma"|"opensearch", "chroma": {...}, "opensearch": {...}|null}',
    );
  return { flag, stamp };
}
