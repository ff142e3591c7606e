import { describe, expect, it } from 'vitest';
import { EngineTransientError, UsageError } from './errors.ts';
import { attemptsOf, type RetryPolicy, retry } from './retry.ts';

const fast: RetryPolicy = { retries: 3, minDelayMs: 1, maxDelayMs: 4 };

describe('retry', () => {
  it('retries retryable errors until success, and reports the attempts', async () => {
    const retried: number[] = [];
    const { value, attempts } = await retry(
      async (attempt) => {
        if (attempt < 3) throw new EngineTransientError('duckdb', 'IO Error: flaky', 'retry');
        return 'ok';
      },
      fast,
      { onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(value).toBe('ok');
    expect(attempts).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('does not retry errors whose type says no, whatever their message', async () => {
    let calls = 0;
    const error = await retry(async () => {
      calls++;
      throw new UsageError('HTTP 503 timed out');
    }, fast).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(calls).toBe(1);
    expect(attemptsOf(error)).toBe(1);
    calls = 0;
    await expect(
      retry(async () => {
        calls++;
        throw new Error('ECONNRESET in the message only');
      }, fast),
    ).rejects.toThrow(/ECONNRESET/);
    expect(calls).toBe(1);
  });

  it('is bounded: gives up after the policy’s retries with the last error', async () => {
    let calls = 0;
    const started = Date.now();
    const error = await retry(async () => {
      calls++;
      throw new EngineTransientError('spark', `lost driver ${calls}`, 'retry');
    }, fast).catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect((error as Error).message).toBe('lost driver 4');
    expect(attemptsOf(error)).toBe(4);
    expect(Date.now() - started).toBeLessThan(2_000);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new EngineTransientError('spark', 'x', 'retry');
        },
        { ...fast, retries: 0 },
      ),
    ).rejects.toThrow('x');
    expect(calls).toBe(1);
  });

  it('honours a custom shouldRetry', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('mine');
        },
        fast,
        { shouldRetry: (e) => e instanceof Error && e.message === 'mine' },
      ),
    ).rejects.toThrow('mine');
    expect(calls).toBe(4);
  });
});
