/** The real-time path (streaming/, `dealctl stream`); see docs/streaming.md. */
import { z } from 'zod';

/** The real-time path (streaming/, `dealctl stream`); see docs/streaming.md. */
export const StreamingSection = z
  .strictObject({
    /** Comma-separated bootstrap brokers. */
    brokers: z.string().min(1).default('127.0.0.1:9092'),
    clientId: z.string().min(1).default('dealfinder'),
    /** Prepended to every topic and consumer-group name (isolates environments and tests). */
    topicPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/)
      .default(''),
    /** Names this process among the instances of a stage: transactional ids are <stage>-<instanceId>. */
    instanceId: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .default('0'),
    /** Local state (dedupe window, delivery ledger, scanner memory); default <lake>/_streaming. */
    stateDir: z.string().optional(),
    /** Messages larger than this go to the dead-letter topic as oversized. */
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024),
    /** Fetch long-poll; small values lower latency and speed up shutdown. */
    maxWaitMs: z.number().int().min(10).max(10_000).default(100),
    /** Partition batches a stage takes at once: processed as one step, committed in one transaction. */
    concurrentPartitions: z.number().int().min(1).max(64).default(6),
    /** Topic overrides by logical name (raw, parsed, evaluated, opportunities, notifications, dlq.<stage>). */
    topics: z
      .record(
        z.string(),
        z.strictObject({
          partitions: z.number().int().min(1).max(1000).optional(),
          retentionHours: z.number().positive().optional(),
        }),
      )
      .default({}),
    retry: z
      .strictObject({
        attempts: z.number().int().min(0).max(10).default(3),
        initialDelayMs: z.number().int().min(0).default(200),
        maxDelayMs: z.number().int().min(0).default(5_000),
      })
      .prefault({}),
    scanner: z
      .strictObject({
        feeds: z
          .array(
            z.strictObject({
              name: z.string().min(1),
              /** http(s) URL or a local file path. */
              url: z.string().min(1),
              category: z.string().optional(),
            }),
          )
          .default([]),
        timeoutMs: z.number().int().min(100).default(10_000),
        intervalSeconds: z.number().positive().default(300),
        maxBackoffSeconds: z.number().positive().default(3_600),
        userAgent: z.string().default('DealFinderScanner/0.1 (+https://example.invalid/dealfinder)'),
        /** How long the scanner remembers what it published. */
        rememberDays: z.number().positive().default(14),
        /** Also land what is published in the lake's raw zone, so the nightly sees the stream's history (local lakes). */
        archive: z.boolean().default(true),
      })
      .prefault({}),
    price: z
      .strictObject({
        /** Ensemble weights by estimator name; missing names share what is left (default 0.8/0.1/0.1 for three). */
        weights: z.record(z.string(), z.number().min(0)).default({}),
        /** How often the price-history estimator looks for a newer price_trends partition. */
        trendsReloadSeconds: z.number().positive().default(60),
      })
      .prefault({}),
    evaluate: z
      .strictObject({
        minDiscount: z.number().min(0).default(50),
        /** Optional: also require discount / estimate ≥ this percentage. */
        minDiscountPct: z.number().min(0).max(100).optional(),
        /** A deal first seen more than this many hours after its publication is not notified as new. */
        maxAgeHours: z.number().positive().default(48),
      })
      .prefault({}),
    notify: z
      .strictObject({
        channels: z
          .array(
            z.discriminatedUnion('type', [
              z.strictObject({
                type: z.literal('webhook'),
                name: z.string().optional(),
                url: z.string().url(),
                ratePerMinute: z.number().positive().optional(),
              }),
              z.strictObject({
                type: z.literal('slack'),
                name: z.string().optional(),
                url: z.string().url(),
                ratePerMinute: z.number().positive().optional(),
              }),
              z.strictObject({
                type: z.literal('pushover'),
                name: z.string().optional(),
                url: z.string().url().default('https://api.pushover.net/1/messages.json'),
                /** Names of the environment variables holding the secrets (resolved at start). */
                tokenEnv: z.string().default('PUSHOVER_TOKEN'),
                userEnv: z.string().default('PUSHOVER_USER'),
                ratePerMinute: z.number().positive().optional(),
              }),
              z.strictObject({
                type: z.literal('console'),
                name: z.string().optional(),
                ratePerMinute: z.number().positive().optional(),
              }),
            ]),
          )
          .default([{ type: 'console' }]),
        timeoutMs: z.number().int().min(100).default(5_000),
      })
      .prefault({}),
    /** Port of the /metrics endpoint; 0 picks a free port; absent disables it. */
    metricsPort: z.number().int().min(0).max(65535).optional(),
  })
  .prefault({});
