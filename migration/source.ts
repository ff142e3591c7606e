/**
 * The migration source: a Chroma server over its HTTP v2 API, or a Chroma persistent directory
 * read through Python chromadb (py/chroma_source.py, a JSON-lines RPC child process). Both give
 * embeddings as Float32Array, bit-exact.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';

export type SpaceName = 'l2' | 'cosine' | 'ip';

export interface SourceSpec {
  /** http(s)://host:port of a Chroma server, or a PersistentClient directory. */
  readonly location: string;
  readonly collection: string;
  readonly tenant?: string;
  readonly database?: string;
  /** Python with chromadb (persistent directories only). */
  readonly python?: string;
}

export interface SourceCollection {
  readonly name: string;
  readonly id: string;
  readonly metadata: Record<string, unknown> | null;
  readonly configuration: Record<string, unknown>;
  readonly count: number;
}

export interface SourceBatch {
  readonly ids: string[];
  readonly documents: (string | null)[];
  readonly metadatas: (Record<string, unknown> | null)[];
  readonly embeddings: Float32Array[];
}

/** What assess needs of a slice of records, computed where the records are (see PythonChromaSource.stats). */
export interface SliceStats {
  readonly count: number;
  readonly dims: Record<string, number>;
  readonly zero: number;
  readonly nonFinite: number;
  readonly noMeta: number;
  readonly noDoc: number;
  readonly keys: Record<string, Record<string, number>>;
}

export interface QueryResult {
  readonly ids: string[][];
  readonly distances: number[][];
}

export interface ChromaSource {
  readonly kind: 'http' | 'path';
  readonly location: string;
  collections(): Promise<SourceCollection[]>;
  /** Records [offset, offset+limit) in Chroma's stable internal order. */
  get(collection: string, offset: number, limit: number): Promise<SourceBatch>;
  getByIds(collection: string, ids: string[]): Promise<SourceBatch>;
  query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult>;
  /** Statistics of records [offset, offset+limit) without shipping them (directory sources only). */
  stats?(collection: string, offset: number, limit: number): Promise<SliceStats>;
  close(): Promise<void>;
  /** False once a reader process has exited or been closed (absent: a stateless server client). */
  readonly alive?: boolean;
}

export function isHttpLocation(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/**
 * The collection's distance function: configuration hnsw.space (or spann.space), else the
 * legacy metadata key hnsw:space, else Chroma's default, l2 (NOT cosine).
 */
export function spaceOf(c: Pick<SourceCollection, 'configuration' | 'metadata'>): {
  space: SpaceName;
  from: string;
} {
  const conf = c.configuration ?? {};
  const candidates: [unknown, string][] = [
    [(conf.hnsw as Record<string, unknown> | null | undefined)?.space, 'configuration.hnsw.space'],
    [(conf.spann as Record<string, unknown> | null | undefined)?.space, 'configuration.spann.space'],
    [c.metadata?.['hnsw:space'], 'metadata hnsw:space'],
  ];
  for (const [value, from] of candidates) {
    if (value === undefined || value === null) continue;
    if (value === 'l2' || value === 'cosine' || value === 'ip') return { space: value, from };
    throw new DealFinderError(
      'migration-refused',
      `unknown Chroma distance function ${JSON.stringify(value)}`,
      {
        hint: 'Chroma knows l2, cosine and ip',
        exitCode: EXIT_CODES.input,
      },
    );
  }
  return { space: 'l2', from: 'Chroma default (no hnsw:space set)' };
}

export function unreadable(location: string, cause: unknown): DealFinderError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new DealFinderError(
    'migration-source-unreadable',
    `cannot read the Chroma store at ${location}: ${msg}`,
    {
      hint: 'check the --source URL (server running?) or directory (a PersistentClient folder with chroma.sqlite3)',
      exitCode: EXIT_CODES.input,
      cause,
    },
  );
}

/**
 * Opens the source. `readers` > 1 (directories only) starts that many chromadb reader processes
 * behind one ChromaSource, so reads of different chunks run on different cores: a directory read
 * is bound by chromadb's conversion to Python objects, which holds the GIL (threads do not help).
 * A server source takes concurrent requests as it is.
 */
export async function openSource(spec: SourceSpec, readers = 1): Promise<ChromaSource> {
  if (isHttpLocation(spec.location)) {
    const s = new HttpChromaSource(
      spec.location,
      spec.tenant ?? 'default_tenant',
      spec.database ?? 'default_database',
    );
    await s.heartbeat();
    return s;
  }
  const python = spec.python ?? defaultPython();
  // The first reader opens the directory alone (chromadb may migrate an older store on open);
  // the others start while it already serves and join the pool when ready.
  const first = await PythonChromaSource.start(spec.location, python);
  if (readers <= 1) return first;
  const pool = new PooledChromaSource([first]);
  for (let i = 1; i < readers; i++) pool.join(PythonChromaSource.start(spec.location, python));
  return pool;
}

/** Several readers of one directory; each call goes to the member with the fewest calls in flight. */
export class PooledChromaSource implements ChromaSource {
  readonly kind = 'path' as const;
  readonly location: string;
  private readonly members: { source: ChromaSource; busy: number }[];
  private readonly starting = new Set<Promise<ChromaSource | null>>();
  private closed = false;

  constructor(members: ChromaSource[]) {
    this.location = (members[0] as ChromaSource).location;
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
    return this.on((s) => (s.stats as NonNullable<ChromaSource['stats']>).call(s, collection, offset, limit));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.starting);
    await Promise.all(this.members.map((m) => m.source.close()));
  }
}

/**
 * Reads chunks [0, chunk), [chunk, 2·chunk), … with up to `window` reads in flight and hands
 * them to `each` in order, until a chunk comes back shorter than `chunk`. Reads issued past the
 * end come back empty and are dropped. At most `window` + 1 chunks are in memory.
 */
export async function readInOrder<T>(
  read: (offset: number) => Promise<T>,
  sizeOf: (batch: T) => number,
  chunk: number,
  window: number,
  each: (batch: T, offset: number) => Promise<void> | void,
  startAt = 0,
): Promise<void> {
  const inFlight: { offset: number; batch: Promise<T> }[] = [];
  let next = startAt;
  const issue = () => {
    const batch = read(next);
    // Surfaces when awaited below; never unhandled if an earlier chunk fails first.
    batch.catch(() => undefined);
    inFlight.push({ offset: next, batch });
    next += chunk;
  };
  try {
    for (let i = 0; i < Math.max(1, window); i++) issue();
    for (;;) {
      const head = inFlight.shift() as { offset: number; batch: Promise<T> };
      const batch = await head.batch;
      const size = sizeOf(batch);
      if (size === 0) return;
      if (size === chunk) issue();
      await each(batch, head.offset);
      if (size < chunk) return;
    }
  } finally {
    await Promise.allSettled(inFlight.map((f) => f.batch));
  }
}

export function defaultPython(): string {
  return process.env.DEALFINDER_CHROMA_PYTHON || process.env.CHROMA_PYTHON || 'python3';
}

function decodeEmbeddings(b64: string, dims: number[]): Float32Array[] {
  const buf = Buffer.from(b64, 'base64');
  // Copy into an aligned buffer: Float32Array views need 4-byte alignment.
  const all = new Float32Array(buf.byteLength / 4);
  new Uint8Array(all.buffer).set(buf);
  const out: Float32Array[] = [];
  let at = 0;
  for (const d of dims) {
    out.push(all.subarray(at, at + d));
    at += d;
  }
  return out;
}

const REQUEST_TIMEOUT_MS = 120_000;

export class HttpChromaSource implements ChromaSource {
  readonly kind = 'http' as const;
  private readonly ids = new Map<string, string>();
  private readonly base: string;

  constructor(
    readonly location: string,
    tenant: string,
    database: string,
  ) {
    this.base = `${location.replace(/\/+$/, '')}/api/v2/tenants/${encodeURIComponent(tenant)}/databases/${encodeURIComponent(database)}`;
  }

  private async call<T>(url: string, body?: unknown): Promise<T> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        const res = await fetch(url, {
          method: body === undefined ? 'GET' : 'POST',
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await res.text();
        if (res.status >= 500 || res.status === 429)
          throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
        if (!res.ok)
          throw new DealFinderError('migration-refused', `Chroma ${res.status}: ${text.slice(0, 300)}`);
        return JSON.parse(text) as T;
      } catch (error) {
        if (error instanceof DealFinderError) throw error;
        lastError = error;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
    throw unreadable(this.location, lastError);
  }

  async heartbeat(): Promise<void> {
    try {
      await this.call(`${this.location.replace(/\/+$/, '')}/api/v2/heartbeat`);
    } catch (error) {
      throw unreadable(this.location, error);
    }
  }

  async collections(): Promise<SourceCollection[]> {
    const out: SourceCollection[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await this.call<
        {
          id: string;
          name: string;
          metadata: Record<string, unknown> | null;
          configuration_json: Record<string, unknown> | null;
        }[]
      >(`${this.base}/collections?limit=100&offset=${offset}`);
      for (const c of page) {
        this.ids.set(c.name, c.id);
        const count = await this.call<number>(`${this.base}/collections/${c.id}/count`);
        out.push({
          name: c.name,
          id: c.id,
          metadata: c.metadata,
          configuration: c.configuration_json ?? {},
          count,
        });
      }
      if (page.length < 100) break;
    }
    return out;
  }

  private async idOf(collection: string): Promise<string> {
    if (!this.ids.has(collection)) {
      const c = await this.call<{ id: string }>(`${this.base}/collections/${encodeURIComponent(collection)}`);
      this.ids.set(collection, c.id);
    }
    return this.ids.get(collection) as string;
  }

  private toBatch(r: {
    ids: string[];
    documents: (string | null)[] | null;
    metadatas: (Record<string, unknown> | null)[] | null;
    embeddings: number[][] | null;
  }): SourceBatch {
    return {
      ids: r.ids,
      documents: r.documents ?? r.ids.map(() => null),
      metadatas: r.metadatas ?? r.ids.map(() => null),
      // The server prints float32 values in their shortest form: parsing and rounding to f32 is exact.
      embeddings: (r.embeddings ?? []).map((e) => Float32Array.from(e)),
    };
  }

  async get(collection: string, offset: number, limit: number): Promise<SourceBatch> {
    const id = await this.idOf(collection);
    return this.toBatch(
      await this.call(`${this.base}/collections/${id}/get`, {
        offset,
        limit,
        include: ['embeddings', 'metadatas', 'documents'],
      }),
    );
  }

  async getByIds(collection: string, ids: string[]): Promise<SourceBatch> {
    const id = await this.idOf(collection);
    return this.toBatch(
      await this.call(`${this.base}/collections/${id}/get`, {
        ids,
        include: ['embeddings', 'metadatas', 'documents'],
      }),
    );
  }

  async query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult> {
    const id = await this.idOf(collection);
    const r = await this.call<{ ids: string[][]; distances: number[][] }>(
      `${this.base}/collections/${id}/query`,
      {
        query_embeddings: queries.map((q) => Array.from(q)),
        n_results: k,
        include: ['distances'],
      },
    );
    return { ids: r.ids, distances: r.distances };
  }

  async close(): Promise<void> {}
}

export const CHROMA_SOURCE_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'py',
  'chroma_source.py',
);

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

export class PythonChromaSource implements ChromaSource {
  readonly kind = 'path' as const;
  private readonly queue: Pending[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private stderr = '';
  private exited: string | null = null;

  private constructor(
    readonly location: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {}

  static async start(location: string, python: string): Promise<PythonChromaSource> {
    const dir = path.resolve(location);
    if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(path.join(dir, 'chroma.sqlite3')))
      throw unreadable(location, new Error('not a Chroma persistent directory (no chroma.sqlite3)'));
    const child = spawn(python, [CHROMA_SOURCE_SCRIPT, dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', NO_PROXY: '127.0.0.1,localhost' },
    });
    const src = new PythonChromaSource(location, child);
    child.stderr.on('data', (d: Buffer) => {
      src.stderr = (src.stderr + d.toString()).slice(-4000);
    });
    const ready = new Promise<Record<string, unknown>>((resolve, reject) =>
      src.queue.push({ resolve, reject }),
    );
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      const p = src.queue.shift();
      if (!p) return;
      try {
        p.resolve(JSON.parse(line) as Record<string, unknown>);
      } catch (error) {
        p.reject(error as Error);
      }
    });
    const fail = (why: string) => {
      src.exited = why;
      for (const p of src.queue.splice(0)) p.reject(new Error(`${why}: ${src.stderr.slice(-1500)}`));
    };
    child.on('error', (e) => fail(`cannot run ${python}: ${e.message}`));
    // A write to a reader that died or was closed (EPIPE, write after end) fails its requests;
    // unhandled, it would be an 'error' event that ends the whole Node process.
    child.stdin.on('error', (e) => fail(`chroma_source.py stdin: ${e.message}`));
    child.on('exit', (code, signal) => fail(`chroma_source.py exited (${signal ?? code})`));
    let first: Record<string, unknown>;
    try {
      first = await withTimeout(ready, 90_000, 'chroma_source.py start');
    } catch (error) {
      child.kill('SIGKILL');
      throw unreadable(location, error);
    }
    if (first.fatal) {
      child.kill('SIGKILL');
      throw unreadable(location, new Error(String(first.fatal)));
    }
    return src;
  }

  private request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const run = async () => {
      if (this.exited) throw unreadable(this.location, new Error(this.exited));
      if (this.child.stdin.writableEnded) throw unreadable(this.location, new Error('the reader was closed'));
      const p = new Promise<Record<string, unknown>>((resolve, reject) =>
        this.queue.push({ resolve, reject }),
      );
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
      const res = await withTimeout(p, REQUEST_TIMEOUT_MS, `chroma_source.py ${String(req.op)}`);
      if (res.error) throw unreadable(this.location, new Error(`${String(res.type)}: ${String(res.error)}`));
      return res;
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** False once the reader process has exited or been closed. */
  get alive(): boolean {
    return this.exited === null && !this.child.stdin.writableEnded;
  }

  async collections(): Promise<SourceCollection[]> {
    const r = await this.request({ op: 'collections' });
    return r.collections as SourceCollection[];
  }

  private toBatch(r: Record<string, unknown>): SourceBatch {
    const ids = r.ids as string[];
    return {
      ids,
      documents: (r.documents as (string | null)[] | null) ?? ids.map(() => null),
      metadatas: (r.metadatas as (Record<string, unknown> | null)[] | null) ?? ids.map(() => null),
      embeddings: decodeEmbeddings(String(r.emb ?? ''), (r.dims as number[]) ?? []),
    };
  }

  async get(collection: string, offset: number, limit: number): Promise<SourceBatch> {
    return this.toBatch(await this.request({ op: 'get', collection, offset, limit }));
  }

  async getByIds(collection: string, ids: string[]): Promise<SourceBatch> {
    return this.toBatch(await this.request({ op: 'get_ids', collection, ids }));
  }

  async stats(collection: string, offset: number, limit: number): Promise<SliceStats> {
    const r = await this.request({ op: 'stats', collection, offset, limit });
    return {
      count: r.count as number,
      dims: r.dims as Record<string, number>,
      zero: r.zero as number,
      nonFinite: r.non_finite as number,
      noMeta: r.no_meta as number,
      noDoc: r.no_doc as number,
      keys: r.keys as Record<string, Record<string, number>>,
    };
  }

  async query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult> {
    const dim = queries[0]?.length ?? 0;
    const flat = new Float32Array(queries.length * dim);
    queries.forEach((q, i) => {
      flat.set(q, i * dim);
    });
    const r = await this.request({
      op: 'query',
      collection,
      k,
      dim,
      embeddings_b64: Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength).toString('base64'),
    });
    return { ids: r.ids as string[][], distances: r.distances as number[][] };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}
