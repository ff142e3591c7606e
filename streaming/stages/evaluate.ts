import type { Clock } from '../../core/clock.ts';
import {
  Deal,
  EvaluatedDeal,
  type EvaluatedDealRecord,
  Opportunity,
  type OpportunityRecord,
} from '../../schemas/index.ts';
import type { Stage, StageMessage, StageResult, StageRuntime } from '../stage-runner.ts';

export interface OpportunityRules {
  /** discount = estimate − price must be above this (USD). */
  readonly minDiscount: number;
  /** Optional: discount / estimate × 100 must also reach this. */
  readonly minDiscountPct?: number | undefined;
  /** A deal first seen more than this many hours after publication is stale: not an opportunity. */
  readonly maxAgeHours?: number | undefined;
}

/** Whether the deal was first seen more than `maxAgeHours` after it was published (event_time). */
export function isStale(
  deal: Pick<EvaluatedDealRecord, 'event_time' | 'seen_at'>,
  maxAgeHours: number,
): boolean {
  const age = Date.parse(deal.seen_at) - Date.parse(deal.event_time);
  return Number.isFinite(age) && age > maxAgeHours * 3_600_000;
}

/** The decision of the evaluate stage for one evaluated deal (null: not an opportunity). */
export function evaluateDeal(
  deal: EvaluatedDealRecord,
  rules: OpportunityRules,
  now: Date,
): OpportunityRecord | null {
  if (deal.estimate === null || deal.estimate <= 0) return null;
  if (rules.maxAgeHours !== undefined && isStale(deal, rules.maxAgeHours)) return null;
  const discount = Math.round((deal.estimate - deal.price) * 100) / 100;
  const pct = Math.round((discount / deal.estimate) * 10_000) / 100;
  if (!(discount > rules.minDiscount)) return null;
  if (rules.minDiscountPct !== undefined && pct < rules.minDiscountPct) return null;
  const base = Object.fromEntries(
    Object.keys(Deal.fields).map((k) => [k, deal[k as keyof EvaluatedDealRecord]]),
  );
  return {
    ...(base as Omit<
      OpportunityRecord,
      'estimate' | 'discount' | 'discount_pct' | 'rule' | 'estimator_breakdown' | 'evaluated_at'
    >),
    estimate: deal.estimate,
    discount,
    discount_pct: pct,
    rule:
      rules.minDiscountPct !== undefined
        ? `discount>${rules.minDiscount} and pct>=${rules.minDiscountPct}`
        : `discount>${rules.minDiscount}`,
    estimator_breakdown: deal.estimator_breakdown,
    evaluated_at: now.toISOString(),
  };
}

/**
 * evaluate: evaluated deals → opportunities (discount above the threshold, optional percent rule);
 * deals first seen more than `maxAgeHours` (streaming.evaluate.maxAgeHours, 48) after publication
 * are skipped as stale (metric dealfinder_stream_skipped_total{reason="stale"}).
 */
export class EvaluateStage implements Stage<EvaluatedDealRecord> {
  readonly name = 'evaluate' as const;
  readonly input = 'evaluated' as const;
  readonly inputRecord = EvaluatedDeal;

  constructor(
    private readonly rules: OpportunityRules,
    private readonly clock: Clock,
  ) {}

  async process(messages: StageMessage<EvaluatedDealRecord>[], rt: StageRuntime): Promise<StageResult> {
    const now = this.clock.now();
    const out = messages.flatMap(({ value, message }) => {
      if (this.rules.maxAgeHours !== undefined && isStale(value, this.rules.maxAgeHours)) {
        // Published long before anyone saw it (an old item resurfacing in a feed): not news.
        rt.metrics.skipped.inc({ stage: this.name, reason: 'stale' });
        return [];
      }
      const o = evaluateDeal(value, this.rules, now);
      return o ? [rt.out('opportunities', Opportunity, o.deal_id, o, message)] : [];
    });
    return { out, dead: [] };
  }
}
