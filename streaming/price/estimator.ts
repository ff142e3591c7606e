import type { DealRecord } from '../../schemas/index.ts';

/** One estimator's answer for one deal; `estimate` null when it abstains (no match, no history). */
export interface PriceEstimate {
  readonly estimate: number | null;
  readonly detail?: string;
  readonly productId?: string | null;
  readonly matchConfidence?: number | null;
}

/**
 * Estimates the true price of deals. Implementations: the price-history estimator (lake
 * price_trends); later model-serving ones (embeddings + k-NN, SageMaker, LLM) behind the same
 * interface — a k-NN one queries product vectors through migration's VectorStoreRouter, which
 * follows the migration's flag file (Chroma or OpenSearch, live shadow mode). Throw an error with
 * `retryable: true` for transient failures.
 */
export interface PriceEstimator {
  readonly name: string;
  /**
   * The weight when `streaming.price.weights` does not name the estimator. Estimators without
   * one share the position defaults (defaultWeights), so adding one that has it changes nobody
   * else's weight.
   */
  readonly defaultWeight?: number;
  estimate(deals: readonly DealRecord[]): Promise<Map<string, PriceEstimate>>;
  close?(): void | Promise<void>;
}

export interface EnsembleResult {
  readonly estimate: number | null;
  readonly breakdown: { name: string; estimate: number | null; weight: number; detail: string | null }[];
  readonly productId: string | null;
  readonly matchConfidence: number | null;
}

/** Default weights by the number of estimators (production plan: 0.8/0.1/0.1 over three). */
export function defaultWeights(count: number): number[] {
  if (count === 1) return [1];
  if (count === 3) return [0.8, 0.1, 0.1];
  return Array.from({ length: count }, () => 1 / count);
}

/**
 * The ensemble combiner: a weighted mean of the estimators' answers. Weights come from config
 * by estimator name, else the estimator's own default weight, else the defaults by position
 * among the estimators without one; they are renormalized over the estimators that answered, so
 * an abstaining estimator does not drag the estimate toward zero.
 */
export class EnsembleEstimator {
  readonly weights: readonly number[];

  constructor(
    readonly estimators: readonly PriceEstimator[],
    configured: Readonly<Record<string, number>> = {},
  ) {
    if (estimators.length === 0) throw new Error('the ensemble needs at least one estimator');
    const positional = estimators.filter((e) => e.defaultWeight === undefined);
    const defaults = defaultWeights(Math.max(1, positional.length));
    this.weights = estimators.map(
      (e) => configured[e.name] ?? e.defaultWeight ?? defaults[positional.indexOf(e)]!,
    );
  }

  async estimate(deals: readonly DealRecord[]): Promise<Map<string, EnsembleResult>> {
    const answers = await Promise.all(this.estimators.map((e) => e.estimate(deals)));
    const out = new Map<string, EnsembleResult>();
    for (const deal of deals) {
      let sum = 0;
      let weight = 0;
      let productId: string | null = null;
      let matchConfidence: number | null = null;
      const breakdown = this.estimators.map((e, i) => {
        const a = answers[i]!.get(deal.deal_id);
        const w = this.weights[i]!;
        if (a?.estimate != null && Number.isFinite(a.estimate) && w > 0) {
          sum += a.estimate * w;
          weight += w;
        }
        productId ??= a?.productId ?? null;
        matchConfidence ??= a?.matchConfidence ?? null;
        return { name: e.name, estimate: a?.estimate ?? null, weight: w, detail: a?.detail ?? null };
      });
      out.set(deal.deal_id, {
        estimate: weight > 0 ? Math.round((sum / weight) * 100) / 100 : null,
        breakdown,
        productId,
        matchConfidence,
      });
    }
    return out;
  }

  async close(): Promise<void> {
    for (const e of this.estimators) await e.close?.();
  }
}
