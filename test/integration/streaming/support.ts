import { randomUUID } from 'node:crypto';
import type { InMessage, StreamClient } from '../../../streaming/kafka/client.ts';

export {
  type CatalogItem,
  quietLog,
  type Received,
  type StreamEnv,
  streamEnv,
  webhookReceiver,
  writeCatalog,
} from '../../../bench/support/streaming.ts';

/** Polls `check` every 100 ms until it returns true; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Reads a topic from the beginning (read_committed) until `until` holds or `timeoutMs` passes. */
export async function readTopic(
  client: StreamClient,
  topic: string,
  until: (messages: InMessage[]) => boolean,
  timeoutMs = 20_000,
): Promise<InMessage[]> {
  const messages: InMessage[] = [];
  const consumer = await client.consumer({
    groupId: `reader-${randomUUID().slice(0, 8)}`,
    maxWaitMs: 100,
    readCommitted: true,
  });
  try {
    await consumer.subscribe([topic]);
    await consumer.run(async (batch) => {
      messages.push(...batch.messages);
      batch.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    });
    await waitFor(`messages on ${topic} (have ${messages.length})`, () => until(messages), timeoutMs).catch(
      () => undefined,
    );
    return [...messages];
  } finally {
    await consumer.disconnect();
  }
}

export const json = (m: InMessage) => JSON.parse(m.value!.toString('utf8')) as Record<string, unknown>;
