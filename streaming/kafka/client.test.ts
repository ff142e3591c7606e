import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KafkaUnreachableError } from '../../core/errors.ts';
import { createStreamClient } from './client.ts';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('createStreamClient', () => {
  it('reports brokers that cannot be reached as kafka-unreachable, naming them and the config key', async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const client = createStreamClient({
      brokers: [broker],
      clientId: 'unreachable-test',
      connectionTimeoutMs: 500,
      connectRetries: 0,
    });
    const error = await client.admin().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaUnreachableError);
    expect(error).toMatchObject({
      code: 'kafka-unreachable',
      retryable: true,
      details: { brokers: [broker] },
    });
    expect((error as KafkaUnreachableError).message).toContain(broker);
    expect((error as KafkaUnreachableError).hint).toContain('DEALFINDER_STREAMING_BROKERS');
  });
});
