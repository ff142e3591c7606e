/** A Chroma server over its HTTP v2 API. */
import { HttpStatusError, NetworkError } from '../../core/errors.ts';
import { type RetryPolicy, retry } from '../../core/retry.ts';
import { MigrationRefusedError, SourceUnreadableError } from '../errors.ts';
import type { ChromaSource, QueryResult, SourceBatch, SourceCollection } from './types.ts';
import {
  array,
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

export const REQUEST_TIMEOUT_MS = 120_000;

/** Retries of one request to the server: 429, 5xx and network errors (4 attempts). */
const HTTP_RETRY: RetryPolicy = { retries: 3, minDelayMs: 400, maxDelayMs: 3_200 };

export class HttpChromaSource implements ChromaSource {
  readonly kind = 'http' as const;
  private readonly ids = new Map<string, string>();
  private readonly base: string;

  constructor(
    readonly location: string,
    tenant: string,
    database: string,
    private readonly policy: RetryPolicy = HTTP_RETRY,
  ) {
    this.base = `${location.replace(/\/+$/, '')}/api/v2/tenants/${encodeURIComponent(tenant)}/databases/${encodeURIComponent(database)}`;
  }

  /** One call; retryable failures are retried, what stays unreadable is a SourceUnreadableError. */
  private async call(url: string, body?: unknown): Promise<unknown> {
    try {
      const { value } = await retry(() => this.once(url, body), this.policy);
      return value;
    } catch (error) {
      if (error instanceof MigrationRefusedError) throw error;
      throw new SourceUnreadableError(this.location, error);
    }
  }

  private async once(url: string, body: unknown): Promise<unknown> {
    let status: number;
    let text: string;
    try {
      const res = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      throw new NetworkError(`Chroma ${url}`, error);
    }
    if (status >= 500 || status === 429)
      throw new HttpStatusError(status, text.slice(0, 300), `Chroma ${url}`);
    if (status >= 400)
      throw new MigrationRefusedError(
        `Chroma ${status}: ${text.slice(0, 300)}`,
        'check --collection, --tenant and --database',
        {
          category: 'failure',
          details: { status, url },
        },
      );
    return JSON.parse(text);
  }

  /** Reads a reply with a typed reader; a reply of another shape makes the store unreadable. */
  private async read<T>(url: string, body: unknown, parse: (reply: unknown) => T): Promise<T> {
    const reply = await this.call(url, body);
    try {
      return parse(reply);
    } catch (error) {
      if (error instanceof WireError) throw new SourceUnreadableError(this.location, error);
      throw error;
    }
  }

  async heartbeat(): Promise<void> {
    await this.call(`${this.location.replace(/\/+$/, '')}/api/v2/heartbeat`);
  }

  async collections(): Promise<SourceCollection[]> {
    const out: SourceCollection[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await this.read(`${this.base}/collections?limit=100&offset=${offset}`, undefined, (r) =>
        array(r, 'collections').map((c) => {
          const o = record(c, 'collection');
          return {
            id: str(o.id, 'collection.id'),
            name: str(o.name, 'collection.name'),
            metadata: recordOrNull(o.metadata, 'collection.metadata'),
            configuration: recordOrNull(o.configuration_json, 'collection.configuration_json') ?? {},
          };
        }),
      );
      for (const c of page) {
        this.ids.set(c.name, c.id);
        const count = await this.read(`${this.base}/collections/${c.id}/count`, undefined, (r) =>
          num(r, 'count'),
        );
        out.push({ ...c, count });
      }
      if (page.length < 100) break;
    }
    return out;
  }

  private async idOf(collection: string): Promise<string> {
    const known = this.ids.get(collection);
    if (known !== undefined) return known;
    const id = await this.read(`${this.base}/collections/${encodeURIComponent(collection)}`, undefined, (r) =>
      str(record(r, 'collection').id, 'collection.id'),
    );
    this.ids.set(collection, id);
    return id;
  }

  private static toBatch(reply: unknown): SourceBatch {
    const r = record(reply, 'get');
    const ids = strings(r.ids, 'ids');
    return {
      ids,
      documents: listOrNull(r.documents, 'documents', stringOrNull) ?? ids.map(() => null),
      metadatas: listOrNull(r.metadatas, 'metadatas', recordOrNull) ?? ids.map(() => null),
      // The server prints float32 values in their shortest form: parsing and rounding to f32 is exact.
      embeddings: (listOrNull(r.embeddings, 'embeddings', numbers) ?? []).map((e) => Float32Array.from(e)),
    };
  }

  async get(collection: string, offset: number, limit: number): Promise<SourceBatch> {
    const id = await this.idOf(collection);
    return this.read(
      `${this.base}/collections/${id}/get`,
      { offset, limit, include: ['embeddings', 'metadatas', 'documents'] },
      HttpChromaSource.toBatch,
    );
  }

  async getByIds(collection: string, ids: string[]): Promise<SourceBatch> {
    const id = await this.idOf(collection);
    return this.read(
      `${this.base}/collections/${id}/get`,
      { ids, include: ['embeddings', 'metadatas', 'documents'] },
      HttpChromaSource.toBatch,
    );
  }

  async query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult> {
    const id = await this.idOf(collection);
    return this.read(
      `${this.base}/collections/${id}/query`,
      { query_embeddings: queries.map((q) => Array.from(q)), n_results: k, include: ['distances'] },
      (reply) => {
        const r: Json = record(reply, 'query');
        return {
          ids: array(r.ids, 'ids').map((x) => strings(x, 'ids')),
          distances: array(r.distances, 'distances').map((x) => numbers(x, 'distances')),
        };
      },
    );
  }

  async close(): Promise<void> {}
}
