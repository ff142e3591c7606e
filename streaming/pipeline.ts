import path from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { type Clock, clockOf } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { Lake } from '../core/lake.ts';
import type { Logger } from '../core/logging.ts';
import { landRawDeals } from '../ingest/raw-zone.ts';
import { duckDbSettings, openDuckDb } from '../jobs/engines/duckdb.ts';
import type { RawDealRecord } from '../schemas/index.ts';
import { createStreamClient, type StreamClient } from './kafka/client.ts';
import { StreamMetrics } from './metrics.ts';
import { type Channel, channelsFromConfig } from './notify/channels.ts';
import { EnsembleEstimator, type PriceEstimator } from './price/estimator.ts';
import { FeedReferenceEstimator } from './price/feed-reference.ts';
import { PriceHistoryEstimator } from './price/price-history.ts';
import { CleanupRules } from './rules/cleanup-rules.ts';
import { type FeedReport, Scanner } from './scanner.ts';
import { StageRunner } from './stage-runner.ts';
import { EvaluateStage } from './stages/evaluate.ts';
import { type LedgerEntry, NotifyStage } from './stages/notify.ts';
import { ParseStage, type SeenDeal } from './stages/parse.ts';
import { PriceStage } from './stages/price.ts';
import { PartitionStore } from './state/partition-store.ts';
import { ensureTopics, type StageName, Topics } from './topics.ts';

export interface StreamingContext {
  readonly config: Config;
  readonly lake: Lake;
  readonly log: Logger;
  readonly topics: Topics;
  readonly client: StreamClient;
  readonly metrics: StreamMetrics;
  readonly stateDir: string;
  /** Business time: record stamps, the rules' run date, latency stamps (core/clock.ts). */
  readonly clock: Clock;
}

export interface ContextOverrides {
  readonly lake?: Lake;
  readonly clock?: Clock;
  readonly metrics?: StreamMetrics;
  readonly client?: StreamClient;
}

/** Wires config → topics, Kafka client, metrics and the state folder. */
export function streamingContext(
  config: Config,
  log: Logger,
  overrides: ContextOverrides = {},
): StreamingContext {
  const lake = overrides.lake ?? new Lake(config.lake.root, { metaRoot: config.lake.metaRoot });
  return {
    config,
    lake,
    log,
    topics: Topics.of(config),
    client:
      overrides.client ??
      createStreamClient({
        brokers: config.streaming.brokers.split(',').map((b) => b.trim()),
        clientId: `${config.streaming.clientId}-${config.streaming.instanceId}`,
      }),
    metrics: overrides.metrics ?? new StreamMetrics(),
    stateDir: config.streaming.stateDir ?? path.join(lake.metaRoot, '_streaming'),
    clock: overrides.clock ?? clockOf(config),
  };
}

export interface StageOptions {
  /** Extra estimators for the ensemble (model-serving ones); the price-history estimator is always first. */
  readonly estimators?: readonly PriceEstimator[];
  /** Replaces the configured channels (tests, embedding). */
  readonly channels?: readonly Channel[];
  readonly instanceId?: string;
  /** Day the rules treat as the run date (default: today, UTC, on the context's clock). */
  readonly runDate?: string;
}

let sharedDb: Promise<DuckDBInstance> | undefined;
function duckdb(config: Config): Promise<DuckDBInstance> {
  sharedDb ??= openDuckDb({ ...duckDbSettings(config), threads: 1 });
  return sharedDb;
}

/** Builds one stage's processor from the config. */
export async function buildStage(name: StageName, ctx: StreamingContext, options: StageOptions = {}) {
  const { config } = ctx;
  const runDate = options.runDate ?? ctx.clock.todayUtc();
  const instance = options.instanceId ?? config.streaming.instanceId;
  switch (name) {
    case 'parse':
      return new ParseStage(
        await CleanupRules.open(await duckdb(config), config, runDate),
        new PartitionStore<SeenDeal>(ctx.stateDir, `${ctx.topics.prefix}parse-dedupe`),
        config.jobs.dedupeWindowHours,
        ctx.clock,
      );
    case 'price': {
      const history = await PriceHistoryEstimator.open(await duckdb(config), ctx.lake, config, runDate);
      return new PriceStage(
        new EnsembleEstimator(
          [history, ...(options.estimators ?? []), new FeedReferenceEstimator()],
          config.streaming.price.weights,
        ),
        ctx.clock,
      );
    }
    case 'evaluate':
      return new EvaluateStage(config.streaming.evaluate, ctx.clock);
    case 'notify':
      void instance;
      return new NotifyStage(
        options.channels ?? channelsFromConfig(config),
        new PartitionStore<LedgerEntry>(ctx.stateDir, `${ctx.topics.prefix}notify-ledger`),
        { timeoutMs: config.streaming.notify.timeoutMs, windowHours: config.jobs.dedupeWindowHours },
        ctx.clock,
      );
  }
}

export interface RunningStages {
  readonly runners: readonly StageRunner<unknown>[];
  /** Rejects when any stage's consumer crashed for good. */
  readonly failed: Promise<never>;
  /** Graceful drain: finishes and commits the batches in flight, leaves the groups. */
  stop(): Promise<void>;
}

/** Starts the given stages in this process (each its own consumer group member and transactional producer). */
export async function runStages(
  names: readonly StageName[],
  ctx: StreamingContext,
  options: StageOptions = {},
): Promise<RunningStages> {
  const runners: StageRunner<unknown>[] = [];
  for (const name of names) {
    const stage = await buildStage(name, ctx, options);
    const runner = new StageRunner<unknown>(
      stage as never,
      ctx,
      options.instanceId ?? ctx.config.streaming.instanceId,
    );
    await runner.start();
    runners.push(runner);
  }
  return {
    runners,
    failed: Promise.race(runners.map((r) => r.failed)),
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}

/** Creates or checks the topics (strict: mismatches throw). */
export async function prepareTopics(
  ctx: StreamingContext,
  options: { fix?: boolean; strict?: boolean } = {},
) {
  const admin = await ctx.client.admin();
  try {
    return await ensureTopics(admin, ctx.topics, options);
  } finally {
    await admin.disconnect();
  }
}

/** A scanner wired to the config: keys raw deals by the deal id the cleanup rules give them. */
export async function openScanner(
  ctx: StreamingContext,
): Promise<{ scanner: Scanner; close(): Promise<void> }> {
  const rules = await CleanupRules.open(await duckdb(ctx.config), ctx.config, ctx.clock.todayUtc());
  const producer = await ctx.client.producer();
  const archive = await rawZoneArchive(ctx);
  const scanner = new Scanner({
    producer,
    topics: ctx.topics,
    config: ctx.config,
    metrics: ctx.metrics,
    log: ctx.log.child({ component: 'scanner' }),
    clock: ctx.clock,
    stateFile: path.join(ctx.stateDir, `${ctx.topics.prefix}scanner-state.json`),
    keyer: async (entries) =>
      (
        await rules.run(
          entries.map((raw, i) => ({ raw, offset: i })),
          'scanner',
          () => [],
        )
      ).dealIdByRaw,
    archive: archive?.land,
  });
  return {
    scanner,
    async close() {
      await producer.disconnect();
      archive?.close();
      rules.close();
    },
  };
}

/** The scanner's archive into the raw zone: one Parquet file per feed and scan, in its seen day. */
async function rawZoneArchive(
  ctx: StreamingContext,
): Promise<{ land(records: readonly RawDealRecord[]): Promise<void>; close(): void } | undefined> {
  if (!ctx.config.streaming.scanner.archive) return undefined;
  if (ctx.lake.remote) {
    ctx.log.warn(
      { lake: ctx.lake.root },
      'scanner archive needs a local lake: not archiving to the raw zone',
    );
    return undefined;
  }
  const conn = await (await duckdb(ctx.config)).connect();
  return {
    async land(records) {
      const byFeedAndDay = new Map<string, RawDealRecord[]>();
      for (const r of records) {
        const k = `${r.feed}\u0000${r.seen_at.slice(0, 10)}`;
        const rows = byFeedAndDay.get(k);
        if (rows) rows.push(r);
        else byFeedAndDay.set(k, [r]);
      }
      for (const rows of byFeedAndDay.values()) {
        const first = rows[0]!;
        const stamp = first.seen_at.replace(/[-:.]/g, '');
        await landRawDeals(
          conn,
          ctx.lake,
          first.seen_at.slice(0, 10),
          `scan-${safeName(first.feed)}-${stamp}`,
          [...rows],
        );
      }
    },
    close: () => conn.closeSync(),
  };
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);

export type { FeedReport };
