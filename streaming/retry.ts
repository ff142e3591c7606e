/**
 * Retries of the streaming stages: the shared retry helper (core/retry.ts) driven by the
 * `streaming.retry` config section. What is retried is decided by the error's type.
 */
import type { Config } from '../core/config.ts';
import { isRetryable } from '../core/errors.ts';
import { type RetryPolicy, retry, sleep } from '../core/retry.ts';

export { sleep };

/** Transient: another attempt may succeed (see isRetryable in core/errors.ts). */
export const isTransient = isRetryable;

/** The `streaming.retry` config section (`attempts` = retries after the first attempt). */
export type StreamingRetryConfig = Config['streaming']['retry'];

export function retryPolicyOf(section: StreamingRetryConfig): RetryPolicy {
  return { retries: section.attempts, minDelayMs: section.initialDelayMs, maxDelayMs: section.maxDelayMs };
}

/**
 * Runs `fn`, retrying transient failures with exponential backoff and jitter. Returns the value
 * and the attempts it took, or throws the last error with `attempts` set on it. `onRetry` gets the
 * failed attempt's number and the nominal backoff before jitter.
 */
export function withRetry<T>(
  section: StreamingRetryConfig,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<{ value: T; attempts: number }> {
  const policy = retryPolicyOf(section);
  return retry(fn, policy, {
    onRetry: (error, attempt) =>
      onRetry?.(error, attempt, Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1))),
  });
}
