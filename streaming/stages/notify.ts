import type { Clock } from '../../core/clock.ts';
import {
  type NotificationEntry,
  NotificationRecord,
  Opportunity,
  type OpportunityRecord,
} from '../../schemas/index.ts';
import type { OutMessage } from '../kafka/client.ts';
import { type Channel, RateLimiter, renderMessage } from '../notify/channels.ts';
import { withRetry } from '../retry.ts';
import {
  DETECTED_AT_HEADER,
  type DeadLetterInput,
  type Stage,
  type StageMessage,
  type StageResult,
  type StageRuntime,
} from '../stage-runner.ts';
import type { PartitionStore } from '../state/partition-store.ts';

/**
 * The delivery (ledger and Idempotency-Key) of one event of a deal on one channel:
 * `<deal_id>@<price>:<channel>`. A price drop is a new event of the same deal (the parse stage's
 * dedupe lets it through), so it is deliverable again; a replay of the same event is not.
 */
export function deliveryKey(o: Pick<OpportunityRecord, 'deal_id' | 'price'>, channel: string): string {
  return `${o.deal_id}@${o.price}:${channel}`;
}

/** Delivery ledger entry of one deal event + channel. */
export interface LedgerEntry {
  readonly offset: number;
  readonly record: NotificationEntry;
}

/**
 * notify: opportunities → notifications through every configured channel, each delivery
 * recorded to notifications.outbound.
 *
 * Kafka transactions cannot cover an HTTP call, so deliveries are idempotent by deal event
 * (deal + price, deliveryKey) + channel:
 * the delivery ledger (a PartitionStore, fsynced right after the channel accepted) is checked
 * before every call, and HTTP channels also send the key as an Idempotency-Key header. A batch
 * replayed after a crash re-emits the ledger's record instead of calling the channel again.
 */
export class NotifyStage implements Stage<OpportunityRecord> {
  readonly name = 'notify' as const;
  readonly input = 'opportunities' as const;
  readonly inputRecord = Opportunity;
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly lastCompact = new Map<number, number>();

  constructor(
    private readonly channels: readonly Channel[],
    private readonly ledger: PartitionStore<LedgerEntry>,
    private readonly options: { timeoutMs: number; windowHours: number; concurrency?: number },
    private readonly clock: Clock,
  ) {
    for (const c of channels)
      if (c.ratePerMinute) this.limiters.set(c.name, new RateLimiter(c.ratePerMinute));
  }

  onAssignment(partitions: number[]): void {
    this.ledger.retainOnly(partitions);
  }

  async process(messages: StageMessage<OpportunityRecord>[], rt: StageRuntime): Promise<StageResult> {
    const out: OutMessage[] = [];
    const dead: DeadLetterInput[] = [];
    const jobs = messages.flatMap((m) => this.channels.map((c) => ({ m, c })));
    let next = 0;
    // Ledger writes are issued the moment a channel accepts and group-committed; the step (and so
    // its Kafka transaction) waits for all of them, the next delivery does not.
    const durable: Promise<void>[] = [];
    const worker = async () => {
      while (next < jobs.length) {
        const { m, c } = jobs[next++]!;
        await this.deliver(m, c, rt, out, dead, durable);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 32, jobs.length) }, worker));
    await Promise.all(durable);
    // Entries older than twice the dedupe window can no longer stop a delivery: drop them (at most
    // once a minute per partition; the file is rewritten only when it has grown).
    const elapsed = performance.now();
    const now = this.clock.nowMs();
    const windowMs = this.options.windowHours * 3_600_000;
    for (const p of new Set(messages.map((m) => m.message.partition))) {
      if (elapsed - (this.lastCompact.get(p) ?? Number.NEGATIVE_INFINITY) < 60_000) continue;
      this.lastCompact.set(p, elapsed);
      this.ledger.compact(p, (e) => now - Date.parse(e.record.delivered_at) < 2 * windowMs);
    }
    return { out, dead };
  }

  private async deliver(
    m: StageMessage<OpportunityRecord>,
    channel: Channel,
    rt: StageRuntime,
    out: OutMessage[],
    dead: DeadLetterInput[],
    durable: Promise<void>[],
  ): Promise<void> {
    const o = m.value;
    const key = deliveryKey(o, channel.name);
    const offset = Number(m.message.offset);
    const partition = m.message.partition;
    const emit = (record: NotificationEntry) =>
      out.push(rt.out('notifications', NotificationRecord, o.deal_id, record, m.message));
    const entry = this.ledger.get(partition, key);
    if (entry) {
      if (entry.offset >= rt.firstOffset(partition)) {
        // Delivered by an attempt whose transaction never committed: record it now, don't resend.
        emit(entry.record);
        rt.metrics.notifications.inc({ channel: channel.name, status: 'replayed' });
        return;
      }
      if (this.clock.nowMs() - Date.parse(entry.record.delivered_at) < this.options.windowHours * 3_600_000) {
        emit({
          ...entry.record,
          status: 'already_delivered',
          attempts: 0,
          delivered_at: this.clock.now().toISOString(),
        });
        rt.metrics.notifications.inc({ channel: channel.name, status: 'already_delivered' });
        return;
      }
    }
    const text = renderMessage(o);
    const detectedMs = Number(m.message.headers[DETECTED_AT_HEADER] ?? Number.NaN);
    const detectedAt = Number.isFinite(detectedMs) ? new Date(detectedMs).toISOString() : null;
    const limiter = this.limiters.get(channel.name);
    try {
      const { value: receipt, attempts } = await withRetry(
        rt.config.streaming.retry,
        async () => {
          await limiter?.acquire(() => rt.heartbeat());
          return channel.send({ idempotencyKey: key, text, opportunity: o }, this.options.timeoutMs);
        },
        (error, attempt, delayMs) => {
          rt.metrics.retries.inc({ stage: this.name });
          rt.log.warn(
            { deal_id: o.deal_id, channel: channel.name, err: String(error), attempt, delayMs },
            'delivery retry',
          );
        },
      );
      // Detection was stamped on the same clock (scanner), so this is the path's real latency.
      const now = this.clock.nowMs();
      const record: NotificationEntry = {
        notification_id: key,
        deal_id: o.deal_id,
        channel: channel.name,
        status: 'delivered',
        message: text,
        attempts,
        http_status: receipt.httpStatus,
        detected_at: detectedAt,
        delivered_at: new Date(now).toISOString(),
        latency_ms: Number.isFinite(detectedMs) ? now - detectedMs : null,
      };
      durable.push(this.ledger.putAllAsync(partition, [[key, { offset, record }]]));
      emit(record);
      rt.metrics.notifications.inc({ channel: channel.name, status: 'delivered' });
      if (Number.isFinite(detectedMs))
        rt.metrics.deliveryLatency.observe({ channel: channel.name }, (now - detectedMs) / 1000);
      rt.log.info({ deal_id: o.deal_id, channel: channel.name, attempts }, 'notification delivered');
    } catch (error) {
      const attempts = (error as { attempts?: number }).attempts ?? 1;
      const status = (error as { details?: { status?: number } }).details?.status ?? null;
      emit({
        notification_id: key,
        deal_id: o.deal_id,
        channel: channel.name,
        status: 'failed',
        message: text,
        attempts,
        http_status: status,
        detected_at: detectedAt,
        delivered_at: this.clock.now().toISOString(),
        latency_ms: null,
      });
      dead.push({
        message: m.message,
        code: 'delivery_failed',
        reason: `${(error as Error).message} after ${attempts} attempt(s)`,
        attempts,
        recordId: o.deal_id,
      });
      rt.metrics.notifications.inc({ channel: channel.name, status: 'failed' });
    }
  }
}
