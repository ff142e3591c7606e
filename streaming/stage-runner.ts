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
  /** Offset of the first message of the partition batch (= the last committed position). */
  readonly batchFirstOffset: number;
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
  process(messages: StageMessage<T>[], partition: number, rt: StageRuntime): Promise<StageResult>;
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
}

/**
 * Runs a stage with exactly-once read-process-write: per partition batch, the outputs, the
 * dead letters and the consumer offsets are committed in one Kafka transaction (transactional
 * id per stage instance; the inputs are read read_committed). Messages that cannot be decoded
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

  private runtime(batch: InBatch): StageRuntime {
    const { topics, config, metrics } = this.deps;
    return {
      topics,
      config,
      metrics,
      log: this.log,
      heartbeat: () => batch.heartbeat(),
      batchFirstOffset: Number(batch.messages[0]?.offset ?? 0),
      out: (topic, def, key, value, from) => ({
        topic: topics.name(topic),
        key,
        value: encode(def, value),
        headers: detectionHeaders(from),
      }),
    };
  }

  private async handle(batch: InBatch): Promise<void> {
    if (batch.messages.length === 0 || !batch.isRunning() || batch.isStale()) return;
    const started = performance.now();
    const { config, metrics } = this.deps;
    const name = this.stage.name;
    metrics.messagesIn.inc({ stage: name }, batch.messages.length);
    const good: StageMessage<T>[] = [];
    const dead: DeadLetterInput[] = [];
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
    const rt = this.runtime(batch);
    // Processing is serial per stage instance (the rules' DuckDB tables are shared); commits are
    // grouped: batches of several partitions that finish while a transaction is in flight go
    // into the next transaction together.
    const work = this.processing.then(() => this.processIsolating(good, batch.partition, rt));
    this.processing = work.then(
      () => undefined,
      () => undefined,
    );
    const result = await work;
    dead.push(...result.dead);
    const out = [...result.out];
    for (const d of dead) out.push(this.deadLetter(d));
    for (const p of result.persists) await p();
    const last = batch.messages[batch.messages.length - 1]!;
    const commitStarted = performance.now();
    await this.commit(out, {
      topic: batch.topic,
      partition: batch.partition,
      offset: String(BigInt(last.offset) + 1n),
    });
    batch.resolveOffset(last.offset);
    metrics.commitSeconds.observe({ stage: name }, (performance.now() - commitStarted) / 1000);
    const now = Date.now();
    for (const m of out) metrics.messagesOut.inc({ stage: name, topic: m.topic });
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
    for (const m of batch.messages) metrics.stageLatency.observe({ stage: name }, (now - m.timestamp) / 1000);
    metrics.batchSeconds.observe({ stage: name }, (performance.now() - started) / 1000);
    metrics.lag.set(
      { stage: name, topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
    );
    this.log.debug(
      { partition: batch.partition, in: batch.messages.length, out: out.length, dead: dead.length },
      'batch committed',
    );
  }

  private processing: Promise<void> = Promise.resolve();
  private pending: {
    out: OutMessage[];
    offset: { topic: string; partition: number; offset: string };
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private committing = false;

  /** Queues a batch's outputs and offset for the next transaction; resolves once it committed. */
  private commit(
    out: OutMessage[],
    offset: { topic: string; partition: number; offset: string },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ out, offset, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0);
        try {
          await this.producer!.commitTransaction(
            group.flatMap((g) => g.out),
            this.groupId,
            group.map((g) => g.offset),
          );
          for (const g of group) g.resolve();
        } catch (error) {
          for (const g of group) g.reject(error);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /** Processes with retries; on failure splits the batch so that only the failing messages are dead-lettered. */
  private async processIsolating(
    good: StageMessage<T>[],
    partition: number,
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
        () => this.stage.process(good, partition, rt),
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
      const a = await this.processIsolating(good.slice(0, mid), partition, rt, false);
      const b = await this.processIsolating(good.slice(mid), partition, rt, false);
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
      failed_at: new Date().toISOString(),
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
