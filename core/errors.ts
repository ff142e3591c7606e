/**
 * Typed errors with a stable code, an actionable hint and a retry flag. The CLI prints
 * `error[<code>]: <message>` and the hint; scripts can rely on the exit code of each class.
 */
export type ErrorCode =
  | 'config-invalid'
  | 'usage'
  | 'missing-input'
  | 'job-sql-invalid'
  | 'job-failed'
  | 'engine-transient'
  | 'data-quality-failed'
  | 'run-not-found'
  | 'resume-not-possible'
  | 'query-failed'
  | 'service-unavailable'
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
  | 'stream-topics-invalid'
  | 'stream-delivery-failed';

export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  dataQuality: 3,
  input: 4,
  config: 5,
} as const;

export class DealFinderError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly exitCode: number;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      hint?: string;
      retryable?: boolean;
      exitCode?: number;
      cause?: unknown;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.exitCode = options.exitCode ?? EXIT_CODES.failure;
    this.details = options.details ?? {};
  }
}

export class ConfigError extends DealFinderError {
  constructor(message: string, hint?: string) {
    super('config-invalid', message, {
      hint: hint ?? 'check dealfinder.config.json and DEALFINDER_* variables',
      exitCode: EXIT_CODES.config,
    });
  }
}

export class UsageError extends DealFinderError {
  constructor(message: string, hint?: string) {
    super('usage', message, { hint: hint ?? 'run with --help for usage', exitCode: EXIT_CODES.usage });
  }
}

export class InputMissingError extends DealFinderError {
  constructor(message: string, hint: string) {
    super('missing-input', message, { hint, exitCode: EXIT_CODES.input });
  }
}

export class JobSqlError extends DealFinderError {
  constructor(job: string, message: string) {
    super('job-sql-invalid', `job ${job}: ${message}`, {
      hint: 'see docs/engines.md and jobs/job.ts for the portable SQL subset',
    });
  }
}

export class JobFailedError extends DealFinderError {
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

export class DataQualityError extends DealFinderError {
  constructor(step: string, failed: string[]) {
    super('data-quality-failed', `data-quality checks failed after ${step}: ${failed.join(', ')}`, {
      hint: 'see the DQ report (`dealctl runs show <run-id>`); thresholds live in the dq section of the config',
      exitCode: EXIT_CODES.dataQuality,
      details: { step, failed },
    });
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof DealFinderError) return error.retryable;
  const message = error instanceof Error ? error.message : String(error);
  // I/O hiccups (network file systems, S3 throttling) are worth another attempt; SQL and data errors are not.
  return /IO Error|HTTP|timed out|ETIMEDOUT|ECONNRESET|EAGAIN|SlowDown|Throttl/i.test(message);
}

/** Streaming topics are missing or differ from the topic config (partitions, retention). */
export class StreamTopicsError extends DealFinderError {
  constructor(problems: string[]) {
    super('stream-topics-invalid', `Kafka topics do not match the topic config: ${problems.join('; ')}`, {
      hint: 'run `dealctl stream topics --fix` (creates missing topics, raises partitions, sets retention)',
      details: { problems },
    });
  }
}

/** A notification channel refused or failed a delivery; retryable for network errors, 429 and 5xx. */
export class DeliveryError extends DealFinderError {
  constructor(channel: string, message: string, retryable: boolean, status?: number) {
    super('stream-delivery-failed', `channel ${channel}: ${message}`, {
      retryable,
      hint: 'check the channel URL and credentials in streaming.notify.channels',
      details: { channel, status },
    });
  }
}
