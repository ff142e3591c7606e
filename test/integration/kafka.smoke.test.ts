/**
 * Smoke test of the real Kafka service (single-node KRaft from Maven Central jars):
 * topic creation, a plain produce → consume round trip, and a transactional
 * producer whose committed records a read_committed consumer sees while the
 * aborted ones stay invisible.
 */
import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('kafka');

function client(): Kafka {
  return new Kafka({
    clientId: `kafka-smoke-${randomUUID().slice(0, 6)}`,
    brokers: svc.env.KAFKA_BROKERS!.split(','),
    // kafkajs logs retriable broker answers (e.g. CONCURRENT_TRANSACTIONS right after a commit) at
    // ERROR level; real failures still surface as rejected promises.
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Creates a topic and waits (bounded) until every partition has a leader. kafkajs' own
 * waitForLeaders gives up when the KRaft broker briefly answers UNKNOWN_TOPIC_OR_PARTITION for a
 * topic it has just created (seen in CI), so poll the metadata ourselves.
 */
async function createTopic(admin: Admin, topic: string, numPartitions: number): Promise<boolean> {
  const created = await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: false });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const parts = meta.topics[0]?.partitions ?? [];
      if (parts.length === numPartitions && parts.every((p) => p.leader >= 0)) return created;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Collects `count` message values (bounded by timeoutMs), then stops the consumer. */
async function consume(
  consumer: Consumer,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<string[]> {
  const values: string[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms with ${values.length}/${count} messages`)),
      timeoutMs,
    );
    consumer
      .run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString() ?? '');
          if (values.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  return values;
}

const opened: Array<{ disconnect(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(opened.map((c) => c.disconnect().catch(() => undefined)));
});

svc.describe('kafka smoke (real broker)', () => {
  it('exposes a loopback broker that describes its cluster', async () => {
    expect(svc.env.KAFKA_BROKERS).toMatch(/^127\.0\.0\.1:\d+$/);
    const admin = client().admin();
    opened.push(admin);
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(1);
    expect(cluster.brokers[0]?.host).toBe('127.0.0.1');
  });

  it('creates a topic and round-trips messages', async () => {
    const kafka = client();
    const topic = `smoke-plain-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    opened.push(admin);
    await admin.connect();
    expect(await createTopic(admin, topic, 2)).toBe(true);
    expect(await admin.listTopics()).toContain(topic);

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    opened.push(producer);
    await producer.connect();
    const sent = Array.from({ length: 10 }, (_, i) => `deal-${i}`);
    await producer.send({ topic, messages: sent.map((value, i) => ({ key: `k${i % 3}`, value })) });

    // Short fetch long-poll: disconnect() waits for the in-flight fetch (default 5 s).
    const consumer = kafka.consumer({
      groupId: `smoke-plain-${randomUUID().slice(0, 8)}`,
      maxWaitTimeInMs: 250,
    });
    opened.push(consumer);
    await consumer.connect();
    const received = await consume(consumer, topic, sent.length);
    expect([...received].sort()).toEqual([...sent].sort());
  });

  it('commits a transaction that read_committed consumers see, and hides an aborted one', async () => {
    const kafka = client();
    const topic = `smoke-tx-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    opened.push(admin);
    await admin.connect();
    await createTopic(admin, topic, 1);

    const producer = kafka.producer({
      transactionalId: `smoke-tx-${randomUUID().slice(0, 8)}`,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    opened.push(producer);
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();

    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await committed.commit();

    // Sentinel after both transactions: once it arrives, everything before it was delivered.
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ value: 'sentinel' }] });
    await last.commit();

    const consumer = kafka.consumer({
      groupId: `smoke-tx-${randomUUID().slice(0, 8)}`,
      readUncommitted: false, // read_committed
      maxWaitTimeInMs: 250,
    });
    opened.push(consumer);
    await consumer.connect();
    const received = await consume(consumer, topic, 3);
    expect(received).toEqual(['committed-1', 'committed-2', 'sentinel']);
  });
});
