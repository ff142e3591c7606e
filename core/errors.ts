/**
 * The one error hierarchy of the platform. Every error the code throws on purpose is a
 * `DealFinderError`: a stable kebab-case `code`, an actionable `hint`, typed readonly `details`,
 * an explicit `retryable` flag and an exit category. The CLI prints `error[<code>]: <message>`
 * and `hint: <hint>`, and exits with the category's code (README "Exit codes").
 *
 * Retrying is decided by the error's type (`isRetryable`), never by its message text.
 *
 * @example
 *   throw new UsageError('--batch-size must be 1..10000');
 *   // error[usage]: --batch-size must be 1..10000
 *   // hint: run with --help for usage                      (exit 2)
 */
import { isRecord } from './guards.ts';

export type ErrorCode =
  | 'config-invalid'
  | 'usage'
  | 'missing-input'
  | 'date-invalid'
  | 'date-range-too-long'
  | 'job-unknown'
  | 'job-sql-invalid'
  | 'job-failed'
  | 'engine-transient'
  | 'spark-job-failed'
  | 'data-quality-failed'
  | 'run-not-found'
  | 'resume-not-possible'
  | 'query-failed'
  | 'service-unavailable'
  | 'http-status'
  | 'migration-refused'
  | 'migration-gate-failed'
  | 'migration-busy'
  | 'migration-dimension-mismatch'
  | 'migration-source-unreadable'
  | 'vector-store-flag-invalid'
  | 'emr-step-failed'
  | 'emr-cluster-failed'
  | 'emr-deadline'
  | 'emr-cancelled'
  | 'aws-request-failed'
  | 'kafka-unreachable'
  | 'stream-topics-invalid'
  | 'stream-delivery-failed'
  | 'stream-schema-violation'
  | 'feed-invalid'
  | 'feed-unreachable'
  | 'ingest-failed'
  | 'catalog-import-failed';

/**
 * What kind of failure an error is, which fixes the exit code: a user's mistake in the invocation
 * (usage), in the data (data-quality), a missing input, a bad configuration, a failure of the work
 * or a service, an interruption (Ctrl-C, cancel), or a bug (internal).
 */
export type ExitCategory =
  | 'failure'
  | 'usage'
  | 'data-quality'
  | 'missing-input'
  | 'config'
  | 'interrupted'
  | 'internal';

export const EXIT_CODE_OF: Readonly<Record<ExitCategory, number>> = {
  failure: 1,
  usage: 2,
  'data-quality': 3,
  'missing-input': 4,
  config: 5,
  interrupted: 130,
  internal: 1,
};

/** Exit codes by name (kept for callers that compare numbers). */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  dataQuality: 3,
  input: 4,
  config: 5,
  interrupted: 130,
} as const;

/** Details of an error: a typed, read-only object per class. */
export type ErrorDetails = object;
type NoDetails = Readonly<Record<never, never>>;

export interface DealFinderErrorOptions<D extends ErrorDetails> {
  readonly hint?: string | undefined;
  /** Default false: only errors that another attempt can fix are retryable. */
  readonly retryable?: boolean;
  /** Default 'failure'. */
  readonly category?: ExitCategory;
  /**
   * @deprecated give `category`; a number is mapped to the category with that exit code
   * (kept so call sites written before the categories compile unchanged).
   */
  readonly exitCode?: number;
  readonly cause?: unknown;
  readonly details?: D;
}

function categoryOfExitCode(code: number | undefined): ExitCategory | undefined {
  if (code === undefined) return undefined;
  const categories: readonly ExitCategory[] = [
    'failure',
    'usage',
    'data-quality',
    'missing-input',
    'config',
    'interrupted',
  ];
  return categories.find((c) => EXIT_CODE_OF[c] === code) ?? 'failure';
}

export class DealFinderError<D extends ErrorDetails = NoDetails> extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly category: ExitCategory;
  readonly details: Readonly<D>;

  constructor(code: ErrorCode, message: string, options: DealFinderErrorOptions<D> = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.category = options.category ?? categoryOfExitCode(options.exitCode) ?? 'failure';
    // Without details only when the class has none (D = NoDetails): the empty object is a D then.
    this.details = Object.freeze(options.details ?? ({} as D));
  }

  /** The process exit code of this error's category. */
  get exitCode(): number {
    return EXIT_CODE_OF[this.category];
  }
}

// ---------------------------------------------------------------------------------------------
// Invocation, input and configuration mistakes

/** One problem found in the configuration: where (`path`, or the variable), and what is wrong. */
export interface ConfigProblem {
  /** Dotted config path (`duckdb.threads`), or '' for the whole document. */
  readonly path: string;
  readonly message: string;
  /** Where the bad value came from: the file, an environment variable name, or the overrides. */
  readonly source?: string;
}

export class ConfigError extends DealFinderError<{ readonly problems: readonly ConfigProblem[] }> {
  constructor(message: string, hint?: string, problems: readonly ConfigProblem[] = []) {
    super('config-invalid', message, {
      hint: hint ?? 'check dealfinder.config.json and DEALFINDER_* variables (docs: README "Configuration")',
      category: 'config',
      details: { problems },
    });
  }

  get problems(): readonly ConfigProblem[] {
    return this.details.problems;
  }
}

export class UsageError extends DealFinderError {
  constructor(message: string, hint?: string) {
    super('usage', message, { hint: hint ?? 'run with --help for usage', category: 'usage' });
  }
}

export class InputMissingError extends DealFinderError {
  constructor(message: string, hint: string) {
    super('missing-input', message, { hint, category: 'missing-input' });
  }
}

/** A date argument that is not a calendar day. */
export class InvalidDateError extends DealFinderError<{ readonly value: string }> {
  constructor(value: string) {
    super('date-invalid', `not a calendar date (YYYY-MM-DD): ${value}`, {
      hint: 'give dates as YYYY-MM-DD, e.g. 2026-11-23',
      category: 'usage',
      details: { value },
    });
  }
}

/** A date range longer than the platform processes in one go (a typo in a year, usually). */
export class DateRangeTooLongError extends DealFinderError<{
  readonly from: string;
  readonly to: string;
  readonly maxDays: number;
}> {
  constructor(from: string, to: string, maxDays: number) {
    super('date-range-too-long', `date range ${from}..${to} is longer than ${maxDays} days`, {
      hint: 'check the years of --from/--to; split a longer backfill into several runs',
      category: 'usage',
      details: { from, to, maxDays },
    });
  }
}

export class UnknownJobError extends DealFinderError<{
  readonly job: string;
  readonly known: readonly string[];
}> {
  constructor(job: string, known: readonly string[]) {
    super('job-unknown', `unknown job ${job}; jobs: ${known.join(', ')}`, {
      hint: 'list the jobs with `dealctl jobs list`',
      category: 'usage',
      details: { job, known },
    });
  }
}

export class RunNotFoundError extends DealFinderError<{ readonly runId: string; readonly lake: string }> {
  constructor(runId: string, lake: string) {
    super('run-not-found', `run ${runId} is not in the ledger at ${lake}`, {
      hint: 'list runs with `dealctl runs list`',
      category: 'missing-input',
      details: { runId, lake },
    });
  }
}

/** A query over the lake that the engine rejected or failed (SQL error, unknown view). */
export class QueryFailedError extends DealFinderError {
  constructor(cause: unknown, hint: string) {
    super('query-failed', messageOf(cause) || 'query failed', { hint, cause });
  }
}

// ---------------------------------------------------------------------------------------------
// Batch jobs and engines

export class JobSqlError extends DealFinderError<{ readonly job: string }> {
  constructor(job: string, message: string) {
    super('job-sql-invalid', `job ${job}: ${message}`, {
      hint: 'see docs/engines.md and jobs/job.ts for the portable SQL subset',
      details: { job },
    });
  }
}

export class JobFailedError extends DealFinderError<{ readonly job: string }> {
  constructor(job: string, cause: unknown, retryable: boolean) {
    super(
      'job-failed',
      `job ${job} failed: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
      {
        cause,
        retryable,
        hint: 'fix the cause, then continue with `dealctl nightly --resume <run-id>`',
        details: { job },
      },
    );
  }
}

/** An engine failure another attempt may not hit: lost driver, I/O error, timeout. */
export class EngineTransientError extends DealFinderError<{ readonly engine: string }> {
  constructor(engine: string, message: string, hint: string, cause?: unknown) {
    super('engine-transient', message, { retryable: true, hint, cause, details: { engine } });
  }
}

export class DataQualityError extends DealFinderError<{
  readonly step: string;
  readonly failed: readonly string[];
}> {
  constructor(step: string, failed: string[]) {
    super('data-quality-failed', `data-quality checks failed after ${step}: ${failed.join(', ')}`, {
      hint: 'see the DQ report (`dealctl runs show <run-id>`); thresholds live in the dq section of the config',
      category: 'data-quality',
      details: { step, failed },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Services

/** A service (OpenSearch, Chroma, Spark, …) did not answer, or kept failing after the retries. */
export class ServiceUnavailableError extends DealFinderError<{ readonly service: string }> {
  constructor(
    service: string,
    message: string,
    options: { hint: string; retryable?: boolean; cause?: unknown },
  ) {
    super('service-unavailable', message, {
      hint: options.hint,
      retryable: options.retryable ?? true,
      cause: options.cause,
      details: { service },
    });
  }
}

/** Retryable HTTP answers: throttling (429) and server errors (5xx). */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/** An HTTP request answered with an error status; retryable for 429 and 5xx. */
export class HttpStatusError extends DealFinderError<{
  readonly status: number;
  readonly request: string;
  readonly body: string;
}> {
  constructor(status: number, body: string, request: string) {
    super('http-status', `${request}: HTTP ${status} ${body.slice(0, 400)}`, {
      retryable: isRetryableStatus(status),
      hint: 'see the answer above; 429 and 5xx are retried, other statuses are refusals',
      details: { status, request, body: body.slice(0, 4000) },
    });
  }

  get status(): number {
    return this.details.status;
  }

  get body(): string {
    return this.details.body;
  }
}

/** A network request that never got an answer (connection refused or reset, DNS, timeout). */
export class NetworkError extends DealFinderError<{ readonly request: string }> {
  constructor(request: string, cause: unknown) {
    super('service-unavailable', `${request}: ${messageOf(cause)}`, {
      retryable: true,
      cause,
      hint: 'check that the service is up and reachable at that address',
      details: { request },
    });
  }
}

/** An AWS request that failed after the SDK's own retries (throttling, 5xx, a bucket that vanished). */
export class AwsRequestError<D extends ErrorDetails = NoDetails> extends DealFinderError<D> {
  constructor(
    message: string,
    options: { hint?: string; retryable?: boolean; cause?: unknown; details?: D },
  ) {
    super('aws-request-failed', message, {
      hint: options.hint ?? 'check the aws endpoint/region in the config and the credentials; then rerun',
      retryable: options.retryable ?? true,
      cause: options.cause,
      ...(options.details ? { details: options.details } : {}),
    });
  }
}

/** No Kafka broker answered. */
export class KafkaUnreachableError extends DealFinderError<{ readonly brokers: readonly string[] }> {
  constructor(brokers: readonly string[], cause: unknown) {
    super('kafka-unreachable', `no Kafka broker reachable at ${brokers.join(', ')}: ${messageOf(cause)}`, {
      retryable: true,
      cause,
      hint: 'start Kafka, or point streaming.brokers (env DEALFINDER_STREAMING_BROKERS) at running brokers',
      details: { brokers },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Streaming

/** Streaming topics are missing or differ from the topic config (partitions, retention). */
export class StreamTopicsError extends DealFinderError<{ readonly problems: readonly string[] }> {
  constructor(problems: string[]) {
    super('stream-topics-invalid', `Kafka topics do not match the topic config: ${problems.join('; ')}`, {
      hint: 'run `dealctl stream topics --fix` (creates missing topics, raises partitions, sets retention)',
      details: { problems },
    });
  }
}

/** A notification channel refused or failed a delivery; retryable for network errors, 429 and 5xx. */
export class DeliveryError extends DealFinderError<{
  readonly channel: string;
  readonly status: number | undefined;
}> {
  constructor(channel: string, message: string, retryable: boolean, status?: number) {
    super('stream-delivery-failed', `channel ${channel}: ${message}`, {
      retryable,
      hint: 'check the channel URL and credentials in streaming.notify.channels',
      details: { channel, status },
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Retryability by type

/** Node/undici error codes of a connection that failed or broke: the same request may succeed. */
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Whether another attempt may succeed, decided by the error's type: a DealFinderError's own flag;
 * a client library's flag (kafkajs `retriable`); a timeout (`TimeoutError`, what
 * `AbortSignal.timeout` raises); or a Node system error code of a failed connection, on the error
 * or its cause (fetch's TypeError carries it as `cause.code`). Everything else is not retryable.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof DealFinderError) return error.retryable;
  let e: unknown = error;
  for (let depth = 0; depth < 4 && isRecord(e); depth++, e = e.cause) {
    if (typeof e.retriable === 'boolean') return e.retriable;
    if (e.name === 'TimeoutError') return true;
    if (typeof e.code === 'string' && TRANSIENT_SYSTEM_CODES.has(e.code)) return true;
  }
  return false;
}

/** The first line of an error's message (for one-line reports). */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** The exit code of any thrown value: its category's for a DealFinderError, else 1 (a bug). */
export function exitCodeOf(error: unknown): number {
  return error instanceof DealFinderError ? error.exitCode : EXIT_CODE_OF.internal;
}
