import type { Clock } from '../../core/clock.ts';
import { type DealRecord, ParsedDeal, RawDeal, type RawDealRecord } from '../../schemas/index.ts';
import type { CleanupRules } from '../rules/cleanup-rules.ts';
import type { Stage, StageMessage, StageResult, StageRuntime } from '../stage-runner.ts';
import type { PartitionStore } from '../state/partition-store.ts';

/**
 * Dedupe state of one deal: its latest published event (first seen time, price) and the input
 * offset that published it. `price` is absent in state written before price drops were events.
 */
export interface SeenDeal {
  readonly seen_at: string;
  readonly offset: number;
  readonly price?: number;
}

/**
 * parse: raw deals → parsed deals, with the batch cleanup job's rules (jobs/sql/cleanup.sql run
 * on each micro-batch in DuckDB): validation, price parsing, normalization and the 24-hour dedupe
 * by deal id, where a price drop of at least the configured step (jobs.priceDropPct and
 * jobs.priceDropUsd) below the last event is a new event. Rejected entries go to the DLQ with the quarantine code and message.
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
    private readonly clock: Clock,
  ) {}

  private readonly lastCompact = new Map<number, number>();

  onAssignment(partitions: number[]): void {
    this.seen.retainOnly(partitions);
  }

  async process(messages: StageMessage<RawDealRecord>[], rt: StageRuntime): Promise<StageResult> {
    // Rows are numbered across the step's partitions; the rules report rows by that number.
    const rowMessage = messages.map((m) => m.message);
    const outcome = await this.rules.run(
      messages.map((m, i) => ({ raw: m.value, offset: i })),
      rt.topics.name('raw'),
      (ids, rowsOf) =>
        ids.flatMap((deal_id) => {
          // The window state of the deal in the partition(s) it arrived on in this step.
          for (const p of new Set(rowsOf(deal_id).map((r) => rowMessage[r]!.partition))) {
            const e = this.seen.get(p, deal_id);
            if (e && e.offset < rt.firstOffset(p))
              return [{ deal_id, seen_at: e.seen_at, price: e.price ?? null }];
          }
          return [];
        }),
    );
    rt.metrics.duplicates.inc({ stage: this.name }, outcome.duplicates);
    const out = outcome.deals.map(({ deal, firstOffset }) =>
      rt.out('parsed', ParsedDeal, deal.deal_id, deal as DealRecord, rowMessage[firstOffset]),
    );
    const dead = outcome.rejects.map((r) => ({
      message: rowMessage[r.offset] ?? messages[0]!.message,
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
        const byPartition = new Map<number, [string, SeenDeal][]>();
        for (const { deal, firstOffset } of outcome.deals) {
          const m = rowMessage[firstOffset]!;
          const list = byPartition.get(m.partition) ?? [];
          byPartition.set(m.partition, list);
          list.push([deal.deal_id, { seen_at: deal.seen_at, offset: Number(m.offset), price: deal.price }]);
        }
        await Promise.all([...byPartition].map(([p, entries]) => this.seen.putAllAsync(p, entries)));
        // Expiring the window walks the whole partition's state: at most once a minute.
        const elapsed = performance.now();
        const now = this.clock.nowMs();
        for (const p of byPartition.keys()) {
          if (elapsed - (this.lastCompact.get(p) ?? Number.NEGATIVE_INFINITY) < 60_000) continue;
          this.lastCompact.set(p, elapsed);
          this.seen.compact(p, (v) => now - Date.parse(v.seen_at) < 2 * windowMs);
        }
      },
    };
  }

  close(): void {
    this.rules.close();
  }
}
