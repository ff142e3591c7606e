/**
 * A Chroma persistent directory read through Python chromadb: py/chroma_source.py as a child
 * process speaking JSON lines. Embeddings come back as base64 float32, bit-exact.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SourceUnreadableError } from '../errors.ts';
import { REQUEST_TIMEOUT_MS } from './http.ts';
import type { ChromaSource, QueryResult, SliceStats, SourceBatch, SourceCollection } from './types.ts';
import {
  array,
  counts,
  type Json,
  listOrNull,
  num,
  numbers,
  record,
  recordOrNull,
  str,
  stringOrNull,
  strings,
  WireError,
} from './wire.ts';

export const CHROMA_SOURCE_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'py',
  'chroma_source.py',
);

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

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

interface Pending {
  resolve: (v: Json) => void;
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
      throw new SourceUnreadableError(
        location,
        new Error('not a Chroma persistent directory (no chroma.sqlite3)'),
      );
    const child = spawn(python, [CHROMA_SOURCE_SCRIPT, dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', NO_PROXY: '127.0.0.1,localhost' },
    });
    const src = new PythonChromaSource(location, child);
    child.stderr.on('data', (d: Buffer) => {
      src.stderr = (src.stderr + d.toString()).slice(-4000);
    });
    const ready = new Promise<Json>((resolve, reject) => src.queue.push({ resolve, reject }));
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      const p = src.queue.shift();
      if (!p) return;
      try {
        p.resolve(record(JSON.parse(line), 'chroma_source.py reply'));
      } catch (error) {
        p.reject(error instanceof Error ? error : new Error(String(error)));
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
    let first: Json;
    try {
      first = await withTimeout(ready, 90_000, 'chroma_source.py start');
    } catch (error) {
      child.kill('SIGKILL');
      throw new SourceUnreadableError(location, error);
    }
    if (first.fatal) {
      child.kill('SIGKILL');
      throw new SourceUnreadableError(location, new Error(String(first.fatal)));
    }
    return src;
  }

  /** One request/answer, in order; an answer of the wrong shape makes the store unreadable. */
  private request<T>(req: Json & { op: string }, parse: (reply: Json) => T): Promise<T> {
    const run = async () => {
      if (this.exited) throw new SourceUnreadableError(this.location, new Error(this.exited));
      if (this.child.stdin.writableEnded)
        throw new SourceUnreadableError(this.location, new Error('the reader was closed'));
      const p = new Promise<Json>((resolve, reject) => this.queue.push({ resolve, reject }));
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
      const res = await withTimeout(p, REQUEST_TIMEOUT_MS, `chroma_source.py ${req.op}`);
      if (res.error)
        throw new SourceUnreadableError(
          this.location,
          new Error(`${String(res.type)}: ${String(res.error)}`),
        );
      try {
        return parse(res);
      } catch (error) {
        if (error instanceof WireError) throw new SourceUnreadableError(this.location, error);
        throw error;
      }
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
    return this.request({ op: 'collections' }, (r) =>
      array(r.collections, 'collections').map((c) => {
        const o = record(c, 'collection');
        return {
          name: str(o.name, 'collection.name'),
          id: str(o.id, 'collection.id'),
          metadata: recordOrNull(o.metadata, 'collection.metadata'),
          configuration: recordOrNull(o.configuration, 'collection.configuration') ?? {},
          count: num(o.count, 'collection.count'),
        };
      }),
    );
  }

  private static toBatch(r: Json): SourceBatch {
    const ids = strings(r.ids, 'ids');
    return {
      ids,
      documents: listOrNull(r.documents, 'documents', stringOrNull) ?? ids.map(() => null),
      metadatas: listOrNull(r.metadatas, 'metadatas', recordOrNull) ?? ids.map(() => null),
      embeddings: decodeEmbeddings(
        typeof r.emb === 'string' ? r.emb : '',
        listOrNull(r.dims, 'dims', num) ?? [],
      ),
    };
  }

  get(collection: string, offset: number, limit: number): Promise<SourceBatch> {
    return this.request({ op: 'get', collection, offset, limit }, PythonChromaSource.toBatch);
  }

  getByIds(collection: string, ids: string[]): Promise<SourceBatch> {
    return this.request({ op: 'get_ids', collection, ids }, PythonChromaSource.toBatch);
  }

  stats(collection: string, offset: number, limit: number): Promise<SliceStats> {
    return this.request({ op: 'stats', collection, offset, limit }, (r) => {
      const keys: Record<string, Record<string, number>> = {};
      for (const [k, v] of Object.entries(record(r.keys, 'keys'))) keys[k] = counts(v, `keys.${k}`);
      return {
        count: num(r.count, 'count'),
        dims: counts(r.dims, 'dims'),
        zero: num(r.zero, 'zero'),
        nonFinite: num(r.non_finite, 'non_finite'),
        noMeta: num(r.no_meta, 'no_meta'),
        noDoc: num(r.no_doc, 'no_doc'),
        keys,
      };
    });
  }

  query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult> {
    const dim = queries[0]?.length ?? 0;
    const flat = new Float32Array(queries.length * dim);
    queries.forEach((q, i) => {
      flat.set(q, i * dim);
    });
    return this.request(
      {
        op: 'query',
        collection,
        k,
        dim,
        embeddings_b64: Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength).toString('base64'),
      },
      (r) => ({
        ids: array(r.ids, 'ids').map((x) => strings(x, 'ids')),
        distances: array(r.distances, 'distances').map((x) => numbers(x, 'distances')),
      }),
    );
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
