/**
 * Reads chunks [0, chunk), [chunk, 2·chunk), … with up to `window` reads in flight and hands
 * them to `each` in order, until a chunk comes back shorter than `chunk`. Reads issued past the
 * end come back empty and are dropped. At most `window` + 1 chunks are in memory.
 */
export async function readInOrder<T>(
  read: (offset: number) => Promise<T>,
  sizeOf: (batch: T) => number,
  chunk: number,
  window: number,
  each: (batch: T, offset: number) => Promise<void> | void,
  startAt = 0,
): Promise<void> {
  const inFlight: { offset: number; batch: Promise<T> }[] = [];
  let next = startAt;
  const issue = () => {
    const batch = read(next);
    // Surfaces when awaited below; never unhandled if an earlier chunk fails first.
    batch.catch(() => undefined);
    inFlight.push({ offset: next, batch });
    next += chunk;
  };
  try {
    for (let i = 0; i < Math.max(1, window); i++) issue();
    for (let head = inFlight.shift(); head; head = inFlight.shift()) {
      const batch = await head.batch;
      const size = sizeOf(batch);
      if (size === 0) return;
      if (size === chunk) issue();
      await each(batch, head.offset);
      if (size < chunk) return;
    }
  } finally {
    await Promise.allSettled(inFlight.map((f) => f.batch));
  }
}
