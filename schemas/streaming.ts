import { defineRecord, field, type RecordOf } from './field.ts';
import { Deal } from './records.ts';

/**
 * Records of the real-time path (streaming/). Kafka message schemas are derived from these with
 * jsonSchemaOf(); the stages validate every message against them on produce and on consume.
 */

/** Reasons a message is sent to a stage's dead-letter topic (the quarantine codes are reused too). */
export const DEAD_LETTER_CODES = [
  'malformed_json',
  'schema_violation',
  'oversized',
  'processing_failed',
  'delivery_failed',
] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

/** deals.parsed: a parsed, validated, deduplicated deal — exactly the batch Deal record. */
export const ParsedDeal = Deal;

/** deals.evaluated: a deal with the price estimate of the estimator ensemble. */
export const EvaluatedDeal = defineRecord({
  name: 'evaluated_deals',
  description: 'Parsed deals with the estimated true price and the per-estimator breakdown.',
  key: ['deal_id'],
  fields: {
    ...Deal.fields,
    estimate: field
      .float64('Ensemble estimate of the true price, USD; null when no estimator could price it.')
      .nullable_(),
    estimator_breakdown: field.string(
      'JSON array of {name, estimate, weight, detail} per estimator (estimate null when it abstained).',
    ),
    product_id: field.string('Catalog product the deal was matched to, when any.').nullable_(),
    match_confidence: field.float64('Confidence of the product match, 0..1.', { min: 0, max: 1 }).nullable_(),
    estimated_at: field.timestamp('When the price stage estimated it, UTC.'),
  },
});

/** deals.opportunities: an evaluated deal whose discount passed the rules. */
export const Opportunity = defineRecord({
  name: 'opportunities',
  description: 'Deals priced well below their estimated true price (discount above the threshold).',
  key: ['deal_id'],
  fields: {
    ...Deal.fields,
    estimate: field.float64('Estimated true price, USD.', { gtZero: true }),
    discount: field.float64('estimate − price, USD.'),
    discount_pct: field.float64('discount / estimate × 100.'),
    rule: field.string('Rule that made it an opportunity, e.g. "discount>50".'),
    estimator_breakdown: field.string('JSON array of {name, estimate, weight, detail} per estimator.'),
    evaluated_at: field.timestamp('When the evaluate stage decided, UTC.'),
  },
});

/** notifications.outbound: one delivery attempt outcome per deal and channel. */
export const NotificationRecord = defineRecord({
  name: 'notifications',
  description: 'Notification deliveries: one record per deal and channel (and per suppressed replay).',
  key: ['deal_id'],
  fields: {
    notification_id: field.string('Idempotency key: <deal_id>:<channel>.'),
    deal_id: field.string('Deal the notification is about.', { maxLength: 16 }),
    channel: field.string('Channel name (webhook, pushover, slack, console, …).'),
    status: field.string('Outcome.', { oneOf: ['delivered', 'already_delivered', 'failed'] }),
    message: field.string('Rendered message (at most 200 characters).', { maxLength: 200 }),
    attempts: field.int32('Delivery attempts made by this record’s processing.', { min: 0 }),
    http_status: field.int32('HTTP status of the last attempt, when the channel is HTTP.').nullable_(),
    detected_at: field.timestamp('When the scanner published the deal, UTC.').nullable_(),
    delivered_at: field.timestamp('When the channel accepted it (or the attempt failed), UTC.'),
    latency_ms: field.float64('delivered_at − detected_at, milliseconds.').nullable_(),
  },
});

/** dlq.<stage>: a message a stage could not process, with the reason. */
export const DeadLetter = defineRecord({
  name: 'dead_letters',
  description: 'Messages a stage gave up on, with a stable reason code and the original payload.',
  key: ['source_topic', 'source_partition', 'source_offset'],
  fields: {
    stage: field.string('Stage that rejected the message.'),
    source_topic: field.string('Topic the message was read from.'),
    source_partition: field.int32('Partition it was read from.', { min: 0 }),
    source_offset: field.int64('Offset within that partition.', { min: 0 }),
    key: field.string('Message key, when any.').nullable_(),
    record_id: field.string('raw_id / deal_id of the record, when it could be read.').nullable_(),
    error_code: field.string('Stable reason code (dead-letter or quarantine code).'),
    reason: field.string('What was wrong, for humans.'),
    payload: field.string('Original message value (truncated to 16 KiB), UTF-8.'),
    payload_bytes: field.int64('Size of the original value in bytes.', { min: 0 }),
    attempts: field.int32('Processing attempts before giving up.', { min: 1 }),
    failed_at: field.timestamp('When the stage gave up, UTC.'),
  },
});

export const STREAM_RECORDS = {
  parsed_deals: ParsedDeal,
  evaluated_deals: EvaluatedDeal,
  opportunities: Opportunity,
  notifications: NotificationRecord,
  dead_letters: DeadLetter,
} as const;

export type EvaluatedDealRecord = RecordOf<typeof EvaluatedDeal>;
export type OpportunityRecord = RecordOf<typeof Opportunity>;
export type NotificationEntry = RecordOf<typeof NotificationRecord>;
export type DeadLetterRecord = RecordOf<typeof DeadLetter>;
