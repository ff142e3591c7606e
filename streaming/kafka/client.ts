/**
 * The kafkajs adapter: the only module that imports kafkajs. Everything else in streaming/ talks
 * to the small interfaces of types.ts (re-exported here), so the client library can be swapped.
 * The coordinator cache that saves four round trips per transaction is coordinator-cache.ts.
 */
import type { Consumer, IHeaders, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { KafkaUnreachableError } from '../../core/errors.ts';
import { sleep } from '../../core/retry.ts';
import { cacheCoordinators, withClusterOf } from './coordinator-cache.ts';
import type { ClientOptions, OutMessage, StreamClient } from './types.ts';

export type * from './types.ts';

// kafkajs is CommonJS: Node's ESM loader only sees its default export.
const { ConfigResourceTypes, Kafka, KafkaJSConnectionError, logLevel, Partitioners } = kafkajs;

/** True when the error (or what it wraps) says no broker could be connected to. */
function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++)
    if (e instanceof KafkaJSConnectionError) return true;
  return false;
}

const toKafkaMessages = (messages: readonly OutMessage[]) => {
  const byTopic = new Map<string, { key: string; value: string; headers?: Record<string, string> }[]>();
  for (const m of messages) {
    const list = byTopic.get(m.topic) ?? [];
    byTopic.set(m.topic, list);
    list.push({ key: m.key, value: m.value, ...(m.headers ? { headers: { ...m.headers } } : {}) });
  }
  return [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
};

function headersOf(raw: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v === undefined) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? String(v[0]) : String(v);
  }
  return out;
}

/** The kafkajs-backed client. */
export function createStreamClient(options: ClientOptions): StreamClient {
  /** Connects a kafkajs client; brokers that cannot be reached are a KafkaUnreachableError. */
  const connect = async (client: { connect(): Promise<void> }): Promise<void> => {
    try {
      await client.connect();
    } catch (error) {
      throw isUnreachable(error) ? new KafkaUnreachableError(options.brokers, error) : error;
    }
  };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    // kafkajs logs retriable broker answers (CONCURRENT_TRANSACTIONS right after a commit) at ERROR;
    // real failures surface as rejected promises, which the stages log themselves.
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { initialRetryTime: 50, maxRetryTime: 2_000, retries: options.connectRetries ?? 8 },
  });

  return {
    async admin() {
      const admin = kafka.admin();
      await connect(admin);
      return {
        listTopics: () => admin.listTopics(),
        async createTopics(specs) {
          // kafkajs' own waitForLeaders gives up when a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION
          // for a topic whose metadata has not propagated yet: wait for the leaders ourselves.
          await admin.createTopics({
            waitForLeaders: false,
            topics: specs.map((s) => ({
              topic: s.name,
              numPartitions: s.partitions,
              configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
            })),
          });
          const deadline = Date.now() + 30_000;
          for (;;) {
            try {
              const meta = await admin.fetchTopicMetadata({ topics: specs.map((x) => x.name) });
              if (
                meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
              )
                return;
            } catch (error) {
              if (Date.now() > deadline) throw error;
            }
            if (Date.now() > deadline)
              throw new Error(`topics ${specs.map((x) => x.name).join(', ')} have no leaders`);
            await sleep(100);
          }
        },
        async describeTopics(names) {
          if (names.length === 0) return [];
          const meta = await admin.fetchTopicMetadata({ topics: [...names] });
          const configs = await admin.describeConfigs({
            includeSynonyms: false,
            resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
          });
          return meta.topics.map((t) => {
            const res = configs.resources.find((r) => r.resourceName === t.name);
            const cfg: Record<string, string> = {};
            for (const e of res?.configEntries ?? []) cfg[e.configName] = e.configValue;
            return { name: t.name, partitions: t.partitions.length, configs: cfg };
          });
        },
        async createPartitions(name, count) {
          await admin.createPartitions({ topicPartitions: [{ topic: name, count }] });
        },
        async alterTopicConfigs(name, configs) {
          await admin.alterConfigs({
            validateOnly: false,
            resources: [
              {
                type: ConfigResourceTypes.TOPIC,
                name,
                configEntries: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
              },
            ],
          });
        },
        async groupLag(groupId, topic) {
          const [committed, ends] = await Promise.all([
            admin.fetchOffsets({ groupId, topics: [topic] }),
            admin.fetchTopicOffsets(topic),
          ]);
          const parts = committed[0]?.partitions ?? [];
          return ends.map((e) => {
            const c = parts.find((p) => p.partition === e.partition);
            const co = c && Number(c.offset) >= 0 ? Number(c.offset) : 0;
            return { partition: e.partition, committed: co, end: Number(e.high) };
          });
        },
        async endOffsets(topic) {
          const ends = await admin.fetchTopicOffsets(topic);
          return ends.map((e) => ({ partition: e.partition, offset: Number(e.high) }));
        },
        disconnect: () => admin.disconnect(),
      };
    },

    async transactionalProducer(transactionalId) {
      let coordinators: { clear(): void } | undefined;
      const producer: Producer = withClusterOf(
        kafka,
        () =>
          kafka.producer({
            transactionalId,
            idempotent: true,
            maxInFlightRequests: 1,
            createPartitioner: Partitioners.DefaultPartitioner,
            transactionTimeout: 60_000,
            retry: { initialRetryTime: 2, maxRetryTime: 1_000, retries: 15 },
          }),
        (cluster) => {
          coordinators = cacheCoordinators(cluster, 10_000);
        },
      );
      await connect(producer);
      return {
        async commitTransaction(messages, groupId, offsets, beforeCommit) {
          const tx = await producer.transaction();
          try {
            if (messages.length > 0) await tx.sendBatch({ topicMessages: toKafkaMessages(messages) });
            if (offsets.length > 0) {
              const byTopic = new Map<string, { partition: number; offset: string }[]>();
              for (const o of offsets) {
                const list = byTopic.get(o.topic) ?? [];
                byTopic.set(o.topic, list);
                list.push({ partition: o.partition, offset: o.offset });
              }
              await tx.sendOffsets({
                consumerGroupId: groupId,
                topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
              });
            }
            await beforeCommit?.();
            await tx.commit();
          } catch (error) {
            coordinators?.clear();
            await tx.abort().catch(() => undefined);
            throw error;
          }
        },
        disconnect: () => producer.disconnect(),
      };
    },

    async producer() {
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await connect(producer);
      return {
        async send(messages) {
          if (messages.length > 0)
            await producer.sendBatch({ topicMessages: toKafkaMessages(messages), acks: -1 });
        },
        disconnect: () => producer.disconnect(),
      };
    },

    async consumer(options) {
      const consumer: Consumer = kafka.consumer({
        groupId: options.groupId,
        maxWaitTimeInMs: options.maxWaitMs,
        readUncommitted: !options.readCommitted,
        sessionTimeout: options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 10_000) / 4)),
        rebalanceTimeout: 30_000,
        maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
        allowAutoTopicCreation: false,
        retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 10 },
      });
      await connect(consumer);
      return {
        async subscribe(topics) {
          await consumer.subscribe({ topics: [...topics], fromBeginning: true });
        },
        async run(handler) {
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: options.concurrentPartitions ?? 1,
            eachBatch: async ({ batch, isRunning, isStale, heartbeat, resolveOffset }) => {
              await handler({
                topic: batch.topic,
                partition: batch.partition,
                highWatermark: batch.highWatermark,
                messages: batch.messages.map((m) => ({
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: m.offset,
                  key: m.key ? m.key.toString('utf8') : null,
                  value: m.value,
                  headers: headersOf(m.headers),
                  timestamp: Number(m.timestamp),
                })),
                isRunning,
                isStale,
                heartbeat,
                resolveOffset,
              });
            },
          });
        },
        onAssignment(listener) {
          consumer.on(consumer.events.GROUP_JOIN, (e) => {
            listener(e.payload.memberAssignment);
          });
        },
        onCrash(listener) {
          consumer.on(consumer.events.CRASH, (e) => {
            if (!e.payload.restart) listener(e.payload.error);
          });
        },
        disconnect: () => consumer.disconnect(),
      };
    },
  };
}
