/**
 * The real-time path: scanner → deals.raw → parse → deals.parsed → price → deals.evaluated →
 * evaluate → deals.opportunities → notify → notifications.outbound, over Kafka with
 * transactional read-process-write. See docs/streaming.md.
 */
export { decode, encode } from './codec.ts';
export {
  createStreamClient,
  type InMessage,
  type OutMessage,
  type StreamAdmin,
  type StreamClient,
} from './kafka/client.ts';
export { StreamMetrics } from './metrics.ts';
export {
  type Channel,
  channelsFromConfig,
  consoleChannel,
  pushoverChannel,
  RateLimiter,
  renderMessage,
  slackChannel,
  webhookChannel,
} from './notify/channels.ts';
export {
  buildStage,
  openScanner,
  prepareTopics,
  type RunningStages,
  runStages,
  type StreamingContext,
  streamingContext,
} from './pipeline.ts';
export {
  defaultWeights,
  EnsembleEstimator,
  type PriceEstimate,
  type PriceEstimator,
} from './price/estimator.ts';
export { FeedReferenceEstimator } from './price/feed-reference.ts';
export { PriceHistoryEstimator } from './price/price-history.ts';
export { withRetry } from './retry.ts';
export { CleanupRules } from './rules/cleanup-rules.ts';
export { type FeedReport, Scanner } from './scanner.ts';
export { DETECTED_AT_HEADER, type Stage, StageRunner } from './stage-runner.ts';
export { evaluateDeal } from './stages/evaluate.ts';
export { PartitionStore } from './state/partition-store.ts';
export { ensureTopics, STAGES, type StageName, TOPIC_DEFAULTS, Topics } from './topics.ts';
