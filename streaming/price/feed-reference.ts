import type { DealRecord } from '../../schemas/index.ts';
import type { PriceEstimate, PriceEstimator } from './estimator.ts';

/**
 * The feed's own reference price: the list/"was" price the item states (Deal.list_price, read by
 * jobs/sql/cleanup.sql for batch and stream alike). It is the only estimate of value that exists
 * before any model or price history, so a real feed can notify on day one.
 *
 * It abstains when the item states no reference, when the reference is not above the price (it
 * then says nothing about a discount), and for multi-buy prices (the reference may be of one unit
 * or of the bundle). A retailer's "was" price is a claim, not an observation: by default it
 * weighs a quarter of what the price history does (see docs/streaming.md, "Estimates").
 */
export class FeedReferenceEstimator implements PriceEstimator {
  readonly name = 'feed_reference';
  /** Weight when `streaming.price.weights` does not name it: history (1) dominates, 0.25 : 1. */
  readonly defaultWeight = 0.25;

  async estimate(deals: readonly DealRecord[]): Promise<Map<string, PriceEstimate>> {
    const out = new Map<string, PriceEstimate>();
    for (const d of deals) out.set(d.deal_id, answer(d));
    return out;
  }
}

function answer(d: DealRecord): PriceEstimate {
  if (d.list_price === null || !Number.isFinite(d.list_price))
    return { estimate: null, detail: 'the item states no reference price' };
  if (d.price_kind !== 'exact')
    return { estimate: null, detail: `a ${d.price_kind} price: the reference may be of the bundle` };
  if (!(d.list_price > d.price))
    return { estimate: null, detail: `reference ${d.list_price} is not above the price ${d.price}` };
  return {
    estimate: d.list_price,
    detail: `reference price stated by the feed (${d.list_price_source ?? 'unknown'})`,
  };
}
