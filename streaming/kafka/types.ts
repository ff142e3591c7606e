/**
 * What streaming/ needs of a Kafka client: small interfaces, so the client library can be swapped
 * (kafkajs has had no active maintainer since 2023; a KafkaJS-compatible client such as
 * @confluentinc/kafka-javascript fits behind them). The kafkajs adapter is client.ts.
 */

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
  /** Retries of the client's cluster requests, connecting included (default 8, about 10 s). */
  readonly connectRetries?: number;
  readonly requestTimeoutMs?: number;
}
