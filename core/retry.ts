/**
 * The one retry helper: p-retry with exponential backoff and jitter, retrying only errors whose
 * type says another attempt may succeed (`isRetryable`, core/errors.ts), and the one `sleep`.
 *
 * @example
 *   const { value, attempts } = await retry(() => fetchThing(), { retries: 3, minDelayMs: 200, maxDelayMs: 5_000 });
 */
import pRetry from 'p-retry';
import { isRetryable } from './errors.ts';

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Retries after the first attempt (0: try once; 3: up to 4 attempts). */
  readonly retries: number;
  /** Delay before the first retry; each further retry doubles it, with jitter. */
  readonly minDelayMs: number;
  /** Upper bound of one delay. */
  readonly maxDelayMs: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RetryOptions {
  /** Called before each retry with the error and the number of the attempt that failed. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
  /** Which errors to retry (default: `isRetryable`). */
  readonly shouldRetry?: (error: unknown) => boolean;
  /** Stops retrying (and the wait) when aborted. */
  readonly signal?: AbortSignal | undefined;
}

/** An error that went through `retry`: how many attempts were made before it was given up on. */
export interface Attempted {
  attempts: number;
}

export function attemptsOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('attempts' in error)) return undefined;
  return typeof error.attempts === 'number' ? error.attempts : undefined;
}

/**
 * Runs `fn(attempt)` until it succeeds, a non-retryable error is thrown, or the policy's retries
 * are used up. Returns the value and the attempts it took; a final error carries `attempts`.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions = {},
): Promise<{ value: T; attempts: number }> {
  const shouldRetry = options.shouldRetry ?? isRetryable;
  let attempts = 0;
  try {
    const value = await pRetry(
      () => {
        attempts++;
        return fn(attempts);
      },
      {
        retries: policy.retries,
        minTimeout: policy.minDelayMs,
        maxTimeout: Math.max(policy.minDelayMs, policy.maxDelayMs),
        factor: 2,
        randomize: true,
        ...(options.signal ? { signal: options.signal } : {}),
        shouldRetry: ({ error }) => shouldRetry(error),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0 && shouldRetry(error)) options.onRetry?.(error, attemptNumber);
        },
      },
    );
    return { value, attempts };
  } catch (error) {
    if (typeof error === 'object' && error !== null) Object.assign(error, { attempts } satisfies Attempted);
    throw error;
  }
}
