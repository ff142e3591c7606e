/** The OpenSearch side: a small HTTP client with retries, the index definition, alias operations. */
import { MIGRATION_DEFAULTS } from '../core/config/migration.ts';
import {
  type ErrorDetails,
  HttpStatusError,
  isRetryable,
  messageOf,
  NetworkError,
  ServiceUnavailableError,
} from '../core/errors.ts';
import { isRecord } from '../core/guards.ts';
import { attemptsOf, type RetryPolicy, retry } from '../core/retry.ts';
import { openSearchMappingOf, productVectorDef } from '../schemas/index.ts';
import { MigrationRefusedError } from './errors.ts';
import type { SpaceName } from './source/index.ts';

export type Engine = 'lucene' | 'faiss' | 'nmslib';

/** Chroma distance → OpenSearch k-NN space type. */
export const SPACE_TYPES: Record<SpaceName, string> = { l2: 'l2', cosine: 'cosinesimil', ip: 'innerproduct' };

/** Retries of one OpenSearch request: the `migration.retry` config section's default. */
export const DEFAULT_RETRY: RetryPolicy = MIGRATION_DEFAULTS.retry;

export class OpenSearch {
  readonly url: string;
  /** Requests retried so far (the loader reads it as a pressure signal). */
  retries = 0;

  constructor(
    url: string,
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
    private readonly timeoutMs = 120_000,
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /**
   * One request; 429, 5xx and network errors are retried with exponential backoff and jitter
   * (core/retry.ts). Other statuses throw an HttpStatusError at once.
   */
  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options: { allow404?: boolean; ndjson?: boolean; contentType?: string } = {},
  ): Promise<{ status: number; body: T }> {
    try {
      const { value } = await retry(() => this.once<T>(method, path, body, options), this.policy, {
        onRetry: () => {
          this.retries++;
        },
      });
      return value;
    } catch (error) {
      if (!isRetryable(error)) throw error;
      throw new ServiceUnavailableError(
        'opensearch',
        `OpenSearch ${method} ${path} failed after ${attemptsOf(error) ?? 1} attempts: ${messageOf(error)}`,
        { hint: 'check that OpenSearch is up (GET /_cluster/health), then rerun the phase', cause: error },
      );
    }
  }

  private async once<T>(
    method: string,
    path: string,
    body: unknown,
    options: { allow404?: boolean; ndjson?: boolean; contentType?: string },
  ): Promise<{ status: number; body: T }> {
    const contentType = options.contentType ?? (options.ndjson ? 'application/x-ndjson' : 'application/json');
    const request = `${method} ${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.url}${path}`, {
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
      text = await res.text();
    } catch (error) {
      throw new NetworkError(request, error);
    }
    if (res.status === 404 && options.allow404) return { status: 404, body: {} as T };
    if (!res.ok) throw new HttpStatusError(res.status, text, request);
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
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
  const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const e = record(record(mapping.properties).embedding);
  const method = record(e.method);
  return {
    dimension: typeof e.dimension === 'number' ? e.dimension : null,
    engine: text(method.engine),
    spaceType: text(method.space_type) ?? text(e.space_type),
  };
}

/** A refusal of the migration (exit 4), e.g. an index that exists with another mapping. */
export function refuse<D extends ErrorDetails = Readonly<Record<never, never>>>(
  message: string,
  hint: string,
  details?: D,
  code: 'migration-refused' | 'migration-dimension-mismatch' = 'migration-refused',
): MigrationRefusedError<D> {
  return new MigrationRefusedError(message, hint, { ...(details ? { details } : {}), code });
}
