/** The OpenSearch side: a small HTTP client with retries, the index definition, alias operations. */
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';
import { openSearchMappingOf, productVectorDef } from '../schemas/index.ts';
import type { SpaceName } from './source.ts';

export type Engine = 'lucene' | 'faiss' | 'nmslib';

/** Chroma distance → OpenSearch k-NN space type. */
export const SPACE_TYPES: Record<SpaceName, string> = { l2: 'l2', cosine: 'cosinesimil', ip: 'innerproduct' };

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 400)}`);
  }
}

export const isRetryableStatus = (status: number) => status === 429 || status >= 500;

export function backoffMs(attempt: number, policy: RetryPolicy): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class OpenSearch {
  readonly url: string;
  retries = 0;

  constructor(
    url: string,
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
    private readonly timeoutMs = 120_000,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /** One request; 429, 5xx and network errors are retried with exponential backoff and jitter. */
  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options: { allow404?: boolean; ndjson?: boolean; contentType?: string } = {},
  ): Promise<{ status: number; body: T }> {
    let last: unknown;
    const contentType = options.contentType ?? (options.ndjson ? 'application/x-ndjson' : 'application/json');
    for (let attempt = 1; attempt <= this.policy.attempts; attempt++) {
      try {
        const res = await fetch(`${this.url}${path}`, {
          method,
          // Responses in JSON whatever the request body's format (SMILE bodies get SMILE answers otherwise).
          headers:
            body === undefined
              ? { accept: 'application/json' }
              : { 'content-type': contentType, accept: 'application/json' },
          body:
            body === undefined
              ? undefined
              : typeof body === 'string' || body instanceof Uint8Array
                ? body
                : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await res.text();
        if (res.status === 404 && options.allow404) return { status: 404, body: {} as T };
        if (!res.ok) {
          const err = new HttpStatusError(res.status, text, `${method} ${path}`);
          if (!isRetryableStatus(res.status)) throw err;
          last = err;
        } else {
          return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
        }
      } catch (error) {
        if (error instanceof HttpStatusError && !isRetryableStatus(error.status)) throw error;
        last = error;
      }
      if (attempt < this.policy.attempts) {
        this.retries++;
        await sleep(backoffMs(attempt, this.policy));
      }
    }
    throw new DealFinderError(
      'service-unavailable',
      `OpenSearch ${method} ${path} failed after ${this.policy.attempts} attempts: ${(last as Error)?.message ?? last}`,
      { retryable: true, hint: 'check that OpenSearch is up (GET /_cluster/health), then rerun the phase' },
    );
  }

  async exists(index: string): Promise<boolean> {
    const r = await this.request('GET', `/${encodeURIComponent(index)}`, undefined, { allow404: true });
    return r.status !== 404;
  }

  /** Indices the alias points at (empty when the alias does not exist). */
  async aliasTargets(alias: string): Promise<string[]> {
    const r = await this.request<Record<string, unknown>>(
      'GET',
      `/_alias/${encodeURIComponent(alias)}`,
      undefined,
      {
        allow404: true,
      },
    );
    if (r.status === 404) return [];
    return Object.keys(r.body).sort();
  }

  async isConcreteIndex(name: string): Promise<boolean> {
    if (!(await this.exists(name))) return false;
    const r = await this.request<Record<string, unknown>>('GET', `/${encodeURIComponent(name)}`);
    return Object.hasOwn(r.body, name);
  }

  async mapping(index: string): Promise<Record<string, unknown>> {
    const r = await this.request<Record<string, { mappings: Record<string, unknown> }>>(
      'GET',
      `/${encodeURIComponent(index)}/_mapping`,
    );
    const first = Object.values(r.body)[0];
    return first?.mappings ?? {};
  }

  async settings(index: string): Promise<Record<string, unknown>> {
    const r = await this.request<Record<string, { settings: { index: Record<string, unknown> } }>>(
      'GET',
      `/${encodeURIComponent(index)}/_settings`,
    );
    return Object.values(r.body)[0]?.settings.index ?? {};
  }

  async putSettings(index: string, settings: Record<string, unknown>): Promise<void> {
    await this.request('PUT', `/${encodeURIComponent(index)}/_settings`, { index: settings });
  }

  async refresh(index: string): Promise<void> {
    await this.request('POST', `/${encodeURIComponent(index)}/_refresh`);
  }

  async count(index: string): Promise<number> {
    const r = await this.request<{ count: number }>('GET', `/${encodeURIComponent(index)}/_count`);
    return r.body.count;
  }

  async deleteIndex(index: string): Promise<void> {
    await this.request('DELETE', `/${encodeURIComponent(index)}`, undefined, { allow404: true });
  }

  async updateAliases(actions: Record<string, unknown>[]): Promise<void> {
    await this.request('POST', '/_aliases', { actions });
  }

  async health(index: string, status: 'yellow' | 'green', timeoutS = 60): Promise<string> {
    const r = await this.request<{ status: string }>(
      'GET',
      `/_cluster/health/${encodeURIComponent(index)}?wait_for_status=${status}&timeout=${timeoutS}s`,
    );
    return r.body.status;
  }
}

/** How bulk bodies are encoded: SMILE (binary floats, default) or NDJSON text. */
export type BulkFormat = 'smile' | 'json';

export interface IndexOptions {
  readonly dimension: number;
  readonly space: SpaceName;
  readonly engine: Engine;
  readonly shards: number;
  readonly m: number;
  readonly efConstruction: number;
  /**
   * k-NN derived source (vectors left out of the stored _source and rebuilt from the vector
   * index on read). k-NN 3.5 fails SMILE documents with it on ("Failed to parse content to map"),
   * so SMILE loads store the vector in _source (SMILE-encoded, ~2.3 KB per 384-dim doc).
   */
  readonly derivedSource?: boolean;
}

/** Index body: k-NN on, bulk-load settings (no refresh, no replicas), mapping derived from schemas/. */
export function indexBody(o: IndexOptions): Record<string, unknown> {
  const mapping = openSearchMappingOf(productVectorDef(o.dimension), {
    engine: o.engine,
    spaceType: SPACE_TYPES[o.space],
  }) as { dynamic: string; properties: Record<string, Record<string, unknown>> };
  const embedding = mapping.properties.embedding as { method: Record<string, unknown> };
  embedding.method.parameters = { m: o.m, ef_construction: o.efConstruction };
  // The raw metadata JSON is kept for exact comparison and round trips, not searched (a keyword
  // would also reject values longer than 32 KB).
  mapping.properties.metadata = { type: 'keyword', index: false, doc_values: false };
  return {
    settings: {
      index: {
        knn: true,
        number_of_shards: o.shards,
        number_of_replicas: 0,
        refresh_interval: '-1',
        ...(o.derivedSource === undefined ? {} : { 'knn.derived_source.enabled': o.derivedSource }),
      },
    },
    mappings: mapping,
  };
}

/** Dimension, engine and space of the embedding field of an existing index. */
export function vectorFieldOf(mapping: Record<string, unknown>): {
  dimension: number | null;
  engine: string | null;
  spaceType: string | null;
} {
  const props = (mapping.properties ?? {}) as Record<string, Record<string, unknown>>;
  const e = props.embedding;
  const method = (e?.method ?? {}) as Record<string, unknown>;
  return {
    dimension: typeof e?.dimension === 'number' ? e.dimension : null,
    engine: (method.engine as string | undefined) ?? null,
    spaceType: (method.space_type as string | undefined) ?? (e?.space_type as string | undefined) ?? null,
  };
}

export function refuse(
  message: string,
  hint: string,
  details: Record<string, unknown> = {},
  code: 'migration-refused' | 'migration-dimension-mismatch' = 'migration-refused',
): DealFinderError {
  return new DealFinderError(code, message, { hint, exitCode: EXIT_CODES.input, details });
}
