/**
 * The only module that imports kafkajs. Everything else in streaming/ talks to the small
 * interfaces below, so the client library can be swapped (kafkajs has had no active maintainer
 * since 2023; a KafkaJS-compatible client such as @confluentinc/kafka-javascript fits here).
 */

import type { Consumer, Producer } from 'kafkajs';
import kafkajs from 'kafkajs';

// kafkajs is CommonJS: Node's ESM loader only sees its default export.
const { ConfigResourceTypes, Kafka, logLevel, Partitioners } = kafkajs;

export interface InMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Broker/producer timestamp, ms since epoch. */
  readonly timestamp: number;
}

export interface OutMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface InBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly InMessage[];
  /** Offset after the last message of the partition (high watermark or LSO under read_committed). */
  readonly highWatermark: string;
  isRunning(): boolean;
  isStale(): boolean;
  heartbeat(): Promise<void>;
  /** Tells the client the batch is done up to `offset` (it will not redeliver it in this session). */
  resolveOffset(offset: string): void;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface TopicState {
  readonly name: string;
  readonly partitions: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface StreamAdmin {
  listTopics(): Promise<string[]>;
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  describeTopics(names: readonly string[]): Promise<TopicState[]>;
  createPartitions(name: string, count: number): Promise<void>;
  alterTopicConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<void>;
  /** Committed offset and end offset per partition of `topic` for a consumer group. */
  groupLag(groupId: string, topic: string): Promise<{ partition: number; committed: number; end: number }[]>;
  /** End offsets of a topic per partition. */
  endOffsets(topic: string): Promise<{ partition: number; offset: number }[]>;
  disconnect(): Promise<void>;
}

/** A transactional producer: each call is one atomic read-process-write step. */
export interface TxProducer {
  /**
   * In one transaction: send `messages` and commit `offsets` (the next offset to read) for
   * `groupId`. All become visible to read_committed consumers together, or none do.
   */
  commitTransaction(
    messages: readonly OutMessage[],
    groupId: string,
    offsets: readonly { topic: string; partition: number; offset: string }[],
    /** Awaited right before the commit (EndTxn); a rejection aborts the transaction. */
    beforeCommit?: () => Promise<void>,
  ): Promise<void>;
  disconnect(): Promise<void>;
}

/** An idempotent (non-transactional) producer, for sources such as the scanner. */
export interface PlainProducer {
  send(messages: readonly OutMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface StreamConsumer {
  subscribe(topics: readonly string[]): Promise<void>;
  /** Runs until stop(): the handler gets one partition's batch at a time. */
  run(handler: (batch: InBatch) => Promise<void>): Promise<void>;
  /** Called with the partitions assigned to this member after every rebalance. */
  onAssignment(listener: (assigned: Record<string, number[]>) => void): void;
  /** Called when the consumer crashed and will not restart by itself. */
  onCrash(listener: (error: Error) => void): void;
  /** Waits for the running batch to finish, then leaves the group. */
  disconnect(): Promise<void>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  /** Fetch long-poll; disconnect() waits for it. */
  readonly maxWaitMs: number;
  readonly readCommitted: boolean;
  readonly sessionTimeoutMs?: number;
  readonly maxBytesPerPartition?: number;
  /** Partition batches handed to the handler concurrently (default 1). */
  readonly concurrentPartitions?: number;
}

export interface StreamClient {
  admin(): Promise<StreamAdmin>;
  transactionalProducer(transactionalId: string): Promise<TxProducer>;
  producer(): Promise<PlainProducer>;
  consumer(options: ConsumerOptions): Promise<StreamConsumer>;
}

export interface ClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
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

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v === undefined) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? String(v[0]) : String(v);
  }
  return out;
}

interface CoordinatorLookup {
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<{ nodeId: number }>;
  findBroker(args: { nodeId: number }): Promise<{ nodeId: number }>;
}

/**
 * kafkajs looks the transaction and group coordinators up again (a FindCoordinator round trip)
 * before every AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn: four extra
 * round trips per transaction. This remembers the coordinator's node for `ttlMs` (the broker
 * connection is still checked on every use); `clear()` forgets it, e.g. after a failed commit,
 * so a moved coordinator is found again.
 */
function cacheCoordinators(cluster: CoordinatorLookup, ttlMs: number): { clear(): void } {
  const original = cluster.findGroupCoordinator.bind(cluster);
  const cache = new Map<string, { nodeId: number; at: number }>();
  cluster.findGroupCoordinator = async (args) => {
    const key = `${args.coordinatorType ?? 0}:${args.groupId}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) {
      try {
        return await cluster.findBroker({ nodeId: hit.nodeId });
      } catch {
        cache.delete(key);
      }
    }
    const broker = await original(args);
    cache.set(key, { nodeId: broker.nodeId, at: Date.now() });
    return broker;
  };
  return { clear: () => cache.clear() };
}

/**
 * Runs `create` (a kafka.producer/consumer call) and hands the cluster object kafkajs makes for
 * it to `onCluster`. Uses kafkajs' private cluster factory; without it (another kafkajs version)
 * `onCluster` is simply not called.
 */
function withClusterOf<T>(
  kafka: object,
  create: () => T,
  onCluster: (cluster: CoordinatorLookup) => void,
): T {
  const k = kafka as Record<symbol, unknown>;
  const sym = Object.getOwnPropertySymbols(kafka).find(
    (x) => x.description === 'private:Kafka:createCluster',
  );
  const factory = sym ? k[sym] : undefined;
  if (!sym || typeof factory !== 'function') return create();
  k[sym] = (...args: unknown[]) => {
    const cluster = (factory as (...a: unknown[]) => CoordinatorLookup)(...args);
    if (typeof cluster?.findGroupCoordinator === 'function' && typeof cluster.findBroker === 'function')
      onCluster(cluster);
    return cluster;
  };
  try {
    return create();
  } finally {
    k[sym] = factory;
  }
}

/** The kafkajs-backed client. */
export function createStreamClient(options: ClientOptions): StreamClient {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    // kafkajs logs retriable broker answers (CONCURRENT_TRANSACTIONS right after a commit) at ERROR;
    // real failures surface as rejected promises, which the stages log themselves.
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { initialRetryTime: 50, maxRetryTime: 2_000, retries: 8 },
  });

  return {
    async admin() {
      const admin = kafka.admin();
      await admin.connect();
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
            await new Promise((r) => setTimeout(r, 100));
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
      await producer.connect();
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
      await producer.connect();
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
      await consumer.connect();
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
                  headers: headersOf(m.headers as Record<string, unknown> | undefined),
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
            listener(e.payload.memberAssignment as Record<string, number[]>);
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
