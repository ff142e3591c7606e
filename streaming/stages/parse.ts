import { type DealRecord, ParsedDeal, RawDeal, type RawDealRecord } from '../../schemas/index.ts';
import type { InMessage } from '../kafka/client.ts';
import type { CleanupRules } from '../rules/cleanup-rules.ts';
import type { Stage, StageMessage, StageResult, StageRuntime } from '../stage-runner.ts';
import type { PartitionStore } from '../state/partition-store.ts';

/** Dedupe state of one deal: when it was first seen and the input offset that published it. */
export interface SeenDeal {
  readonly seen_at: string;
  readonly offset: number;
}

/**
 * parse: raw deals → parsed deals, with the batch cleanup job's rules (jobs/sql/cleanup.sql run
 * on each micro-batch in DuckDB): validation, price parsing, normalization and the 24-hour dedupe
 * by deal id. Rejected entries go to the DLQ with the quarantine code and message.
 *
 * Dedupe state survives restarts (a PartitionStore per input partition). An entry written at an
 * offset at or after the batch start was written by an attempt whose transaction never
 * committed (crash, abort): it is ignored, so a replayed batch publishes its deals again.
 */
export class ParseStage implements Stage<RawDealRecord> {
  readonly name = 'parse' as const;
  readonly input = 'raw' as const;
  readonly inputRecord = RawDeal;

  constructor(
    private readonly rules: CleanupRules,
    private readonly seen: PartitionStore<SeenDeal>,
    private readonly windowHours: number,
  ) {}

  onAssignment(partitions: number[]): void {
    this.seen.retainOnly(partitions);
  }

  async process(
    messages: StageMessage<RawDealRecord>[],
    partition: number,
    rt: StageRuntime,
  ): Promise<StageResult> {
    const byOffset = new Map<number, InMessage>();
    for (const m of messages) byOffset.set(Number(m.message.offset), m.message);
    const start = rt.batchFirstOffset;
    const outcome = await this.rules.run(
      messages.map((m) => ({ raw: m.value, offset: Number(m.message.offset) })),
      `${rt.topics.name('raw')}/${partition}`,
      (ids) =>
        ids.flatMap((deal_id) => {
          const e = this.seen.get(partition, deal_id);
          return e && e.offset < start ? [{ deal_id, seen_at: e.seen_at }] : [];
        }),
    );
    rt.metrics.duplicates.inc({ stage: this.name }, outcome.duplicates);
    const out = outcome.deals.map(({ deal, firstOffset }) =>
      rt.out('parsed', ParsedDeal, deal.deal_id, deal as DealRecord, byOffset.get(firstOffset)),
    );
    const dead = outcome.rejects.map((r) => ({
      message: byOffset.get(r.offset) ?? messages[0]!.message,
      code: r.code,
      reason: r.message,
      attempts: 1,
      recordId: r.rawId,
    }));
    const windowMs = this.windowHours * 3_600_000;
    return {
      out,
      dead,
      persist: async () => {
        await this.seen.putAllAsync(
          partition,
          outcome.deals.map(({ deal, firstOffset }) => [
            deal.deal_id,
            { seen_at: deal.seen_at, offset: firstOffset },
          ]),
        );
        this.seen.compact(partition, (v) => Date.now() - Date.parse(v.seen_at) < 2 * windowMs);
      },
    };
  }

  close(): void {
    this.rules.close();
  }
}
