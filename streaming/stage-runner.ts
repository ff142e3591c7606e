import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logging.ts';
import { DeadLetter, type RecordDef, type RecordOf } from '../schemas/index.ts';
import { decode, encode, recordIdOf } from './codec.ts';
import type {
  InBatch,
  InMessage,
  OutMessage,
  StreamClient,
  StreamConsumer,
  TxProducer,
} from './kafka/client.ts';
import type { StreamMetrics } from './metrics.ts';
import { isTransient, withRetry } from './retry.ts';
import type { StageName, TopicKey, Topics } from './topics.ts';

/** Header carrying the time (ms since epoch) the scanner published the deal; propagated by every stage. */
export const DETECTED_AT_HEADER = 'x-dealfinder-detected-at';

export interface StageMessage<T> {
  readonly value: T;
  readonly message: InMessage;
}

export interface DeadLetterInput {
  readonly message: InMessage;
  readonly code: string;
  readonly reason: string;
  readonly attempts: number;
  readonly recordId?: string | null;
}

export interface StageResult {
  /** Encoded output messages (see StageRuntime.out). */
  readonly out: OutMessage[];
  readonly dead: DeadLetterInput[];
  /** Persists local state (fsync) right before the Kafka transaction commits. */
  readonly persist?: () => void | Promise<void>;
}

export interface StageRuntime {
  readonly topics: Topics;
  readonly config: Config;
  readonly metrics: StreamMetrics;
  readonly log: Logger;
  /** Keeps the group membership alive during long batches. */
  heartbeat(): Promise<void>;
  /**
   * Offset of the first message of this step's batch of `partition` (= the last committed
   * position): state written at or after it came from an attempt that never committed.
   */
  firstOffset(partition: number): number;
  /** Encodes (validating against the topic schema) one output, keyed and with the detection header. */
  out<D extends RecordDef>(
    topic: TopicKey,
    def: D,
    key: string,
    value: RecordOf<D>,
    from?: InMessage,
  ): OutMessage;
}

/** One stage of the real-time path: a consumer group member that turns input batches into outputs. */
export interface Stage<T> {
  readonly name: StageName;
  readonly input: TopicKey;
  readonly inputRecord: RecordDef;
  /**
   * Processes one step: the messages of every partition batch of one fetch (each message knows
   * its partition; messages of one partition are in offset order), committed in one transaction.
   */
  process(messages: StageMessage<T>[], rt: StageRuntime): Promise<StageResult>;
  /** Partitions of the input topic this member owns after a rebalance. */
  onAssignment?(partitions: number[]): void;
  close?(): void | Promise<void>;
}

export interface StageDeps {
  readonly client: StreamClient;
  readonly topics: Topics;
  readonly config: Config;
  readonly metrics: StreamMetrics;
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * Runs a stage with exactly-once read-process-write: per step (the partition batches of one
 * fetch), the outputs, the dead letters and the consumer offsets of every partition are committed
 * in one Kafka transaction (transactional id per stage instance; the inputs are read
 * read_committed), and the step's handlers return to kafkajs only after that commit, so a
 * rebalance never hands over a partition whose offsets are in flight. Messages that cannot be decoded
 * go to the stage's DLQ at once; a batch failing after its retries is split so that only the
 * poison message goes to the DLQ and the partition keeps flowing.
 */
export class StageRunner<T> {
  private consumer: StreamConsumer | undefined;
  private producer: TxProducer | undefined;
  private crashed: ((e: Error) => void) | undefined;
  /** Rejects when the consumer crashed for good. */
  readonly failed: Promise<never>;
  readonly groupId: string;
  readonly transactionalId: string;
  private readonly log: Logger;

  constructor(
    readonly stage: Stage<T>,
    private readonly deps: StageDeps,
    instanceId = deps.config.streaming.instanceId,
  ) {
    this.groupId = deps.topics.group(stage.name);
    this.transactionalId = `${deps.topics.prefix}dealfinder-${stage.name}-${instanceId}`;
    this.log = deps.log.child({ stage: stage.name, instance: instanceId });
    this.failed = new Promise<never>((_, reject) => {
      this.crashed = reject;
    });
    this.failed.catch(() => undefined);
  }

  async start(): Promise<void> {
    const { client, topics, config } = this.deps;
    this.producer = await client.transactionalProducer(this.transactionalId);
    const consumer = await client.consumer({
      groupId: this.groupId,
      maxWaitMs: config.streaming.maxWaitMs,
      readCommitted: true,
      concurrentPartitions: config.streaming.concurrentPartitions,
    });
    this.consumer = consumer;
    consumer.onAssignment((assigned) => {
      const mine = assigned[topics.name(this.stage.input)] ?? [];
      this.log.info({ partitions: mine }, 'partitions assigned');
      this.stage.onAssignment?.(mine);
    });
    consumer.onCrash((error) => {
      this.log.error({ err: error.message }, 'consumer crashed');
      this.crashed?.(error);
    });
    await consumer.subscribe([topics.name(this.stage.input)]);
    await consumer.run((batch) => this.handle(batch));
    this.log.info({ group: this.groupId, transactionalId: this.transactionalId }, 'stage started');
  }

  /** Graceful drain: finishes the batch in flight, commits it, leaves the group. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.stage.close?.();
    this.log.info('stage stopped');
  }

  private runtime(batches: readonly InBatch[]): StageRuntime {
    const { topics, config, metrics } = this.deps;
    const first = new Map<number, number>();
    for (const b of batches) first.set(b.partition, Number(b.messages[0]?.offset ?? 0));
    return {
      topics,
      config,
      metrics,
      log: this.log,
      heartbeat: () => batches[0]!.heartbeat(),
      firstOffset: (partition) => first.get(partition) ?? 0,
      out: (topic, def, key, value, from) => ({
        topic: topics.name(topic),
        key,
        value: encode(def, value),
        headers: detectionHeaders(from),
      }),
    };
  }

  private inbox: { batch: InBatch; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private draining = false;

  /**
   * kafkajs hands the partition batches of one fetch to concurrent handlers: they are gathered
   * (everything that arrives in the same turn of the event loop) into one step — one
   * stage.process call and one transaction for all of them. Steps run one at a time.
   */
  private handle(batch: InBatch): Promise<void> {
    if (batch.messages.length === 0 || !batch.isRunning() || batch.isStale()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.inbox.push({ batch, resolve, reject });
      if (this.inbox.length === 1 && !this.draining) setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inbox.length > 0) {
        const group = this.inbox.splice(0).filter((g) => {
          if (g.batch.isRunning() && !g.batch.isStale()) return true;
          g.resolve();
          return false;
        });
        if (group.length === 0) continue;
        try {
          await this.step(group.map((g) => g.batch));
          for (const g of group) g.resolve();
        } catch (error) {
          for (const g of group) g.reject(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async step(batches: readonly InBatch[]): Promise<void> {
    const started = performance.now();
    const { config, metrics } = this.deps;
    const name = this.stage.name;
    const good: StageMessage<T>[] = [];
    const dead: DeadLetterInput[] = [];
    let count = 0;
    for (const batch of batches) {
      count += batch.messages.length;
      for (const message of batch.messages) {
        const d = decode(this.stage.inputRecord, message.value, config.streaming.maxMessageBytes);
        if (d.ok) good.push({ value: d.value as T, message });
        else
          dead.push({
            message,
            code: d.code,
            reason: d.reason,
            attempts: 1,
            recordId: recordIdOf(message.value),
          });
      }
    }
    metrics.messagesIn.inc({ stage: name }, count);
    const rt = this.runtime(batches);
    const result = await this.processIsolating(good, rt);
    dead.push(...result.dead);
    const out = result.out;
    for (const d of dead) out.push(this.deadLetter(d));
    const offsets = batches.map((b) => ({
      topic: b.topic,
      partition: b.partition,
      offset: String(BigInt(b.messages[b.messages.length - 1]!.offset) + 1n),
    }));
    const commitStarted = performance.now();
    // Local state (dedupe window, delivery ledger) is written while the transaction's first
    // requests are on the wire, and is durable before the commit (EndTxn) is sent.
    const persisted = (async () => {
      for (const p of result.persists) await p();
    })();
    persisted.catch(() => undefined);
    await this.producer!.commitTransaction(out, this.groupId, offsets, () => persisted);
    for (const b of batches) b.resolveOffset(b.messages[b.messages.length - 1]!.offset);
    metrics.commitSeconds.observe({ stage: name }, (performance.now() - commitStarted) / 1000);
    // Kafka stamps records with the producer's real time: measure against real time too.
    const now = Date.now();
    const outByTopic = new Map<string, number>();
    for (const m of out) outByTopic.set(m.topic, (outByTopic.get(m.topic) ?? 0) + 1);
    for (const [topic, n] of outByTopic) metrics.messagesOut.inc({ stage: name, topic }, n);
    for (const d of dead) {
      metrics.deadLetters.inc({ stage: name, code: d.code });
      this.log.warn(
        {
          deal_id: d.message.key ?? undefined,
          record_id: d.recordId ?? undefined,
          code: d.code,
          reason: d.reason,
          partition: d.message.partition,
          offset: d.message.offset,
        },
        'message sent to the dead-letter topic',
      );
    }
    for (const b of batches) {
      for (const m of b.messages) metrics.stageLatency.observe({ stage: name }, (now - m.timestamp) / 1000);
      const last = b.messages[b.messages.length - 1]!;
      metrics.lag.set(
        { stage: name, topic: b.topic, partition: String(b.partition) },
        Math.max(0, Number(BigInt(b.highWatermark) - BigInt(last.offset) - 1n)),
      );
    }
    metrics.batchSeconds.observe({ stage: name }, (performance.now() - started) / 1000);
    this.log.debug(
      { partitions: batches.map((b) => b.partition), in: count, out: out.length, dead: dead.length },
      'step committed',
    );
  }

  /** Processes with retries; on failure splits the batch so that only the failing messages are dead-lettered. */
  private async processIsolating(
    good: StageMessage<T>[],
    rt: StageRuntime,
    retry = true,
  ): Promise<{ out: OutMessage[]; dead: DeadLetterInput[]; persists: (() => void | Promise<void>)[] }> {
    if (good.length === 0) return { out: [], dead: [], persists: [] };
    // Only the whole batch gets the retries; its halves get one attempt each (bounded isolation time).
    const policy = retry
      ? this.deps.config.streaming.retry
      : { ...this.deps.config.streaming.retry, attempts: 0 };
    try {
      const { value } = await withRetry(
        policy,
        () => this.stage.process(good, rt),
        (error, attempt, delayMs) => {
          this.deps.metrics.retries.inc({ stage: this.stage.name });
          this.log.warn({ err: String(error), attempt, delayMs }, 'transient failure, retrying the batch');
        },
      );
      return { out: value.out, dead: value.dead, persists: value.persist ? [value.persist] : [] };
    } catch (error) {
      const attempts = (error as { attempts?: number }).attempts ?? 1;
      if (good.length === 1) {
        const m = good[0]!;
        return {
          out: [],
          dead: [
            {
              message: m.message,
              code: 'processing_failed',
              reason: `${isTransient(error) ? 'transient failure persisted' : 'failed'}: ${String((error as Error)?.message ?? error).slice(0, 500)}`,
              attempts,
              recordId: recordIdOf(m.message.value),
            },
          ],
          persists: [],
        };
      }
      this.log.warn(
        { err: String(error), size: good.length },
        'batch failed; isolating the poison message(s)',
      );
      const mid = Math.ceil(good.length / 2);
      const a = await this.processIsolating(good.slice(0, mid), rt, false);
      const b = await this.processIsolating(good.slice(mid), rt, false);
      return {
        out: [...a.out, ...b.out],
        dead: [...a.dead, ...b.dead],
        persists: [...a.persists, ...b.persists],
      };
    }
  }

  private deadLetter(d: DeadLetterInput): OutMessage {
    const value = d.message.value ?? Buffer.alloc(0);
    const record: RecordOf<typeof DeadLetter> = {
      stage: this.stage.name,
      source_topic: d.message.topic,
      source_partition: d.message.partition,
      source_offset: Number(d.message.offset),
      key: d.message.key,
      record_id: d.recordId ?? null,
      error_code: d.code,
      reason: d.reason.slice(0, 2000),
      payload: value.subarray(0, 16 * 1024).toString('utf8'),
      payload_bytes: value.length,
      attempts: Math.max(1, d.attempts),
      failed_at: this.deps.clock.now().toISOString(),
    };
    return {
      topic: this.deps.topics.name(`dlq.${this.stage.name}`),
      key: d.message.key ?? `${d.message.partition}:${d.message.offset}`,
      value: encode(DeadLetter, record),
      headers: detectionHeaders(d.message),
    };
  }
}

function detectionHeaders(from: InMessage | undefined): Record<string, string> {
  const v = from?.headers[DETECTED_AT_HEADER];
  return v ? { [DETECTED_AT_HEADER]: v } : {};
}
