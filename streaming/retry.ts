import { isRetryable } from '../core/errors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt (3 = up to 4 attempts). */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** Transient: flagged retryable (DealFinderError, kafkajs `retriable`) or a network-ish error. */
export function isTransient(error: unknown): boolean {
  if (error && typeof error === 'object' && (error as { retriable?: unknown }).retriable === true)
    return true;
  const name = (error as Error)?.name ?? '';
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  return (
    isRetryable(error) || /ECONNREFUSED|ENOTFOUND|EPIPE|socket hang up|fetch failed/i.test(String(error))
  );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, retrying transient failures with exponential backoff (full jitter). Returns the
 * value, or throws the last error with `attempts` set on it.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (error) {
      if (attempt > policy.attempts || !isTransient(error)) {
        if (error && typeof error === 'object') Object.assign(error, { attempts: attempt });
        throw error;
      }
      const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
      onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}
