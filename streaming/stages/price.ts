import type { Clock } from '../../core/clock.ts';
import { type DealRecord, EvaluatedDeal, ParsedDeal } from '../../schemas/index.ts';
import type { EnsembleEstimator } from '../price/estimator.ts';
import type { Stage, StageMessage, StageResult, StageRuntime } from '../stage-runner.ts';

/**
 * price: parsed deals → evaluated deals. The ensemble of estimators prices every deal of the
 * batch at once; a deal no estimator can price keeps `estimate: null` (it flows on, and the
 * evaluate stage never makes it an opportunity). Estimator failures are retried by the runner.
 */
export class PriceStage implements Stage<DealRecord> {
  readonly name = 'price' as const;
  readonly input = 'parsed' as const;
  readonly inputRecord = ParsedDeal;

  constructor(
    private readonly ensemble: EnsembleEstimator,
    private readonly clock: Clock,
  ) {}

  async process(messages: StageMessage<DealRecord>[], rt: StageRuntime): Promise<StageResult> {
    const estimates = await this.ensemble.estimate(messages.map((m) => m.value));
    const now = this.clock.now().toISOString();
    const out = messages.map(({ value: deal, message }) => {
      const e = estimates.get(deal.deal_id);
      return rt.out(
        'evaluated',
        EvaluatedDeal,
        deal.deal_id,
        {
          ...deal,
          estimate: e?.estimate ?? null,
          estimator_breakdown: JSON.stringify(e?.breakdown ?? []),
          product_id: e?.productId ?? null,
          match_confidence: e?.matchConfidence ?? null,
          estimated_at: now,
        },
        message,
      );
    });
    return { out, dead: [] };
  }

  async close(): Promise<void> {
    await this.ensemble.close();
  }
}
