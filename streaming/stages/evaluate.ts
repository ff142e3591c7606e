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
}

/** The decision of the evaluate stage for one evaluated deal (null: not an opportunity). */
export function evaluateDeal(
  deal: EvaluatedDealRecord,
  rules: OpportunityRules,
  now: Date,
): OpportunityRecord | null {
  if (deal.estimate === null || deal.estimate <= 0) return null;
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

/** evaluate: evaluated deals → opportunities (discount above the threshold, optional percent rule). */
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
      const o = evaluateDeal(value, this.rules, now);
      return o ? [rt.out('opportunities', Opportunity, o.deal_id, o, message)] : [];
    });
    return { out, dead: [] };
  }
}
