import { setTimeout as sleep } from 'node:timers/promises';

/** Sleeps `ms`, rejecting with the signal's reason as soon as it aborts. */
export async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (ms <= 0) return;
  await sleep(ms, undefined, signal ? { signal } : undefined);
}
