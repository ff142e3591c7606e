import path from 'node:path';
import { clockOf } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { DataQualityError, DealFinderError, JobFailedError, messageOf } from '../core/errors.ts';
import { crashPoint, type Lake } from '../core/lake.ts';
import type { Logger } from '../core/logging.ts';
import { retry } from '../core/retry.ts';
import { type Engine, EngineStepError, type JobResult } from '../jobs/engines/engine.ts';
import type { JobDef } from '../jobs/job.ts';
import { type JobPlan, planJob } from '../jobs/plan.ts';
import { selectJobs } from '../jobs/registry.ts';
import { evaluateDq } from './dq.ts';
import { Ledger, type StepDetail, type StepEvent } from './ledger.ts';
import { countByCode } from './outputs.ts';
import {
  inspectRawInput,
  type RawInspection,
  UNREADABLE_FILE,
  writeUnreadableFileRecords,
} from './raw-input.ts';

export interface ProgressReporter {
  start(steps: string[]): void;
  step(name: string, state: 'running' | 'succeeded' | 'skipped' | 'failed', info?: string): void;
  stop(): void;
}

export interface NightlyOptions {
  readonly date: string;
  readonly engine: Engine;
  readonly config: Config;
  readonly lake: Lake;
  readonly log: Logger;
  /** Continue this run: its succeeded steps are kept, the rest run again (or, on EMR, are awaited). */
  readonly resume?: string | undefined;
  /** Recompute even when the last run of a step had identical inputs. */
  readonly force?: boolean | undefined;
  /** Run only these jobs (and nothing else); default all, in dependency order. */
  readonly only?: readonly string[] | undefined;
  /** Id of a new run (default: generated). */
  readonly runId?: string | undefined;
  readonly progress?: ProgressReporter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Run a night whose raw partition is missing or empty (otherwise exit 4, missing-input). */
  readonly allowEmpty?: boolean | undefined;
  /** The current time, for "a date in the future" (default: the config's clock, core/clock.ts). */
  readonly now?: (() => Date) | undefined;
}

export interface RunSummary {
  readonly runId: string;
  readonly date: string;
  readonly engine: string;
  readonly status: 'succeeded' | 'failed';
  readonly steps: StepEvent[];
  readonly wallMs: number;
  readonly error?: DealFinderError;
  /** The engine accepted the steps and the run did not wait for them (EMR --no-wait). */
  readonly detached?: boolean;
  /** What a person should look at that did not fail the run (e.g. a non-Parquet raw file). */
  readonly warnings?: readonly string[];
}

interface RunContext extends NightlyOptions {
  readonly runId: string;
  readonly ledger: Ledger;
  readonly doneInRun: Set<string>;
  readonly plans: Map<string, JobPlan>;
  /** Steps the engine accepted before they ran (EMR), with when each started. */
  readonly accepted: Map<string, string>;
  /** The night's raw partition, when a step of this run reads it. */
  raw?: RawInspection;
  readonly warnings: string[];
}

/**
 * Runs the nightly DAG for one date on any engine: each job planned, executed by the engine,
 * checked, and its partitions committed; every transition goes to the ledger. Re-running a date
 * with unchanged inputs skips (fingerprints match) or, with force, rewrites identical partitions.
 * Engines that take the whole run at once (EMR) get every plan first (Engine.begin); then each
 * step awaits its result here like any other engine's.
 */
export async function runNightly(options: NightlyOptions): Promise<RunSummary> {
  const started = performance.now();
  const { lake, engine, log, date } = options;
  const jobs = selectJobs(options.only);
  const ledger = new Ledger(lake);
  let runId: string;
  let doneInRun = new Set<string>();
  const previous: Record<string, string> = {};
  if (options.resume) {
    runId = options.resume;
    doneInRun = ledger.succeededStepsOf(options.resume, date);
    for (const e of ledger.latestByStep(runId)) previous[e.step] = e.status;
  } else {
    runId = options.runId ?? Ledger.newRunId(date);
  }
  const repaired = lake.recover(runId);
  if (repaired.restored.length)
    log.warn({ restored: repaired.restored }, 'restored partitions left half-replaced by a crashed run');

  const steps: StepEvent[] = [];
  const runLog = log.child({ run_id: runId, date, engine: engine.name });
  const ctx: RunContext = {
    ...options,
    runId,
    ledger,
    doneInRun,
    log: runLog,
    plans: new Map(),
    accepted: new Map(),
    warnings: [],
  };
  const summary = (status: RunSummary['status'], extra: Partial<RunSummary> = {}): RunSummary => ({
    runId,
    date,
    engine: engine.name,
    status,
    steps,
    wallMs: performance.now() - started,
    ...(ctx.warnings.length ? { warnings: [...ctx.warnings] } : {}),
    ...extra,
  });
  options.progress?.start(jobs.map((j) => j.name));
  runLog.info({ jobs: jobs.map((j) => j.name), resume: !!options.resume }, 'nightly run started');
  try {
    const toRun = jobs.filter((j) => !doneInRun.has(j.name));
    if (toRun.some(readsRaw)) {
      ctx.raw = await inspectRawInput(lake, date, {
        now: options.now ? options.now() : clockOf(options.config).now(),
        allowEmpty: options.allowEmpty,
      });
      for (const u of ctx.raw.unknown)
        ctx.warnings.push(`${u}: not a Parquet file, not read (the raw zone holds *.parquet)`);
      for (const u of ctx.raw.unreadable)
        ctx.warnings.push(`${u.source}: unreadable, quarantined as one file (${u.reason})`);
      for (const w of ctx.warnings) runLog.warn({ date }, w);
    }
    if (engine.begin && toRun.length > 0) {
      for (const job of toRun) ctx.plans.set(job.name, planOf(job, ctx));
      const begun = await engine.begin({
        runId,
        date,
        plans: toRun.map((j) => ctx.plans.get(j.name)!),
        previous,
        signal: options.signal,
        onStepRunning: (job, message) => {
          const at = clockOf(options.config).now().toISOString();
          ctx.accepted.set(job, at);
          recordRunning(ctx, job, at, message);
          options.progress?.step(job, 'running', message);
        },
      });
      if (begun.detached) {
        options.progress?.stop();
        runLog.info({ steps: toRun.map((j) => j.name) }, 'nightly run submitted, not waited for');
        steps.push(...inJobOrder(jobs, ledger.latestByStep(runId)));
        return summary('succeeded', { detached: true });
      }
    }
    for (const job of jobs) {
      options.signal?.throwIfAborted();
      steps.push(await runStep(job, ctx));
    }
    await engine.afterRun?.({ runId, date, jobs: jobs.map((j) => j.name) });
    options.progress?.stop();
    lake.finish(runId);
    runLog.info({ wall_ms: Math.round(performance.now() - started) }, 'nightly run succeeded');
    return summary('succeeded');
  } catch (error) {
    options.progress?.stop();
    const err =
      error instanceof EngineStepError
        ? error.runError
        : error instanceof DealFinderError
          ? error
          : new JobFailedError('nightly', error, false);
    runLog.error({ code: err.code, err: err.message }, 'nightly run failed');
    await engine.cancel?.(err.message.split('\n')[0]!);
    // Steps the engine had accepted but did not finish (EMR: submitted after the one that failed).
    const cause = err.message.split('\n')[0]!;
    for (const e of ledger.latestByStep(runId))
      if (e.status === 'running' && ctx.accepted.has(e.step))
        ledger.record({
          ...e,
          status: 'failed',
          ended_at: clockOf(options.config).now().toISOString(),
          message: `not completed: ${cause}`.slice(0, 2000),
        });
    const failed = ledger.latestByStep(runId).filter((e) => !steps.some((s) => s.step === e.step));
    steps.push(...inJobOrder(jobs, failed));
    return summary('failed', { error: err });
  }
}

function inJobOrder(jobs: readonly JobDef[], events: readonly StepEvent[]): StepEvent[] {
  return jobs
    .map((j) => events.find((e) => e.step === j.name))
    .filter((e): e is StepEvent => e !== undefined);
}

/** Jobs that read the night's raw partition (cleanup): the raw-input checks apply to them. */
function readsRaw(job: JobDef): boolean {
  return job.inputs.some((i) => i.table === 'raw_deals');
}

function planOf(job: JobDef, ctx: RunContext): JobPlan {
  const planCtx = {
    lake: ctx.lake,
    config: ctx.config,
    runId: ctx.runId,
    runDate: ctx.date,
    skipFiles: new Set(ctx.raw?.unreadable.map((u) => u.file) ?? []),
    allowEmpty: ctx.allowEmpty,
  };
  return ctx.engine.plan ? ctx.engine.plan(job, planCtx) : planJob(job, planCtx);
}

function baseOf(ctx: RunContext, job: string) {
  return { run_id: ctx.runId, run_date: ctx.date, engine: ctx.engine.name, step: job };
}

const NO_COUNTS = { rows_in: null, rows_out: null, quarantined: null, deduplicated: null };

function recordRunning(ctx: RunContext, job: string, startedAt: string, message: string | null): void {
  ctx.ledger.record({
    ...baseOf(ctx, job),
    ...NO_COUNTS,
    status: 'running',
    attempt: 1,
    started_at: startedAt,
    ended_at: null,
    fingerprint: ctx.plans.get(job)?.fingerprint ?? '',
    message,
  });
}

async function runStep(job: JobDef, ctx: RunContext): Promise<StepEvent> {
  const { ledger, lake, config, engine, runId, date } = ctx;
  const base = baseOf(ctx, job.name);
  const now = () => clockOf(config).now().toISOString();
  if (ctx.doneInRun.has(job.name)) {
    const prior = ledger.latestByStep(runId).find((e) => e.step === job.name)!;
    ctx.progress?.step(job.name, 'skipped', 'done before resume');
    return prior;
  }
  const plan = ctx.plans.get(job.name) ?? planOf(job, ctx);
  ctx.plans.set(job.name, plan);
  if (!ctx.force && !ctx.accepted.has(job.name)) {
    const last = ledger.lastSucceeded(job.name, date);
    const outputsExist = job.outputs.every(
      (o) => lake.partitionFiles(o.table, date, o.subpartition).length > 0,
    );
    if (last && last.fingerprint === plan.fingerprint && outputsExist) {
      const skipped: StepEvent = {
        ...last,
        ...base,
        status: 'skipped',
        attempt: 1,
        started_at: now(),
        ended_at: now(),
        message: `up to date: identical inputs to run ${last.run_id}`,
      };
      ledger.record(skipped);
      ctx.progress?.step(job.name, 'skipped', 'up to date');
      ctx.log.info({ step: job.name, same_as: last.run_id }, 'step up to date, skipped');
      return skipped;
    }
  }
  let startedAt = now();
  let attempt = 0;
  if (!ctx.accepted.has(job.name)) {
    ctx.progress?.step(job.name, 'running');
    recordRunning(ctx, job.name, startedAt, null);
  }
  let result: JobResult;
  try {
    ({ value: result } = await retry(
      async () => {
        attempt++;
        crashPoint(`during:${job.name}`);
        return engine.run(plan, ctx.signal);
      },
      {
        // A step an engine accepted up front (EMR) is not re-submitted from here: resume the run.
        retries: ctx.accepted.has(job.name) ? 0 : config.pipeline.retries,
        minDelayMs: config.pipeline.retryMinDelayMs,
        maxDelayMs: Number.POSITIVE_INFINITY,
      },
      {
        onRetry: (error, attemptNumber) =>
          ctx.log.warn(
            { step: job.name, attempt: attemptNumber, err: messageOf(error) },
            'transient failure, retrying',
          ),
      },
    ));
  } catch (error) {
    startedAt = ctx.accepted.get(job.name) ?? startedAt;
    const err = error instanceof EngineStepError ? error : new JobFailedError(job.name, error, false);
    const message = error instanceof EngineStepError ? error.stepMessage : err.message;
    ledger.record({
      ...base,
      ...NO_COUNTS,
      status: 'failed',
      attempt,
      started_at: startedAt,
      ended_at: now(),
      fingerprint: plan.fingerprint,
      message: message.slice(0, 2000),
    });
    ctx.progress?.step(job.name, 'failed', message.split('\n')[0]);
    throw err;
  }
  startedAt = ctx.accepted.get(job.name) ?? startedAt;
  const quarantineOut = job.outputs.find((o) => o.table === 'quarantine');
  const quarantineFiles = quarantineOut ? (result.outputs[quarantineOut.statement]?.files ?? []) : [];
  const quarantineByCode = result.quarantineByCode ?? (await countByCode(quarantineFiles));
  const previousRows: Record<string, number | undefined> = {};
  const prev = ledger.previousDate(job.name, date);
  for (const o of job.outputs) previousRows[o.statement] = prev?.detail?.outputs[o.statement];
  const dq = evaluateDq({ job, result, runDate: date, config, previousRows });
  const raw = readsRaw(job) ? ctx.raw : undefined;
  // Local lakes were inspected before planning; on EMR the runner checked the files it found.
  const rawFiles =
    raw && !lake.remote
      ? { readable: raw.parquetFiles.length, unreadable: raw.unreadable, local: true }
      : readsRaw(job)
        ? result.rawFiles
        : undefined;
  if (rawFiles && quarantineOut) {
    const total = rawFiles.readable + rawFiles.unreadable.length;
    const ratio = total === 0 ? 0 : rawFiles.unreadable.length / total;
    const limit = config.dq.unreadableFiles;
    dq.push({
      output: quarantineOut.statement,
      check: 'unreadable_files',
      status: ratio <= limit.maxRatio ? 'pass' : limit.severity,
      value: ratio,
      threshold: limit.maxRatio,
      message: `${rawFiles.unreadable.length} of ${total} raw files unreadable${rawFiles.unreadable.length ? ` (${rawFiles.unreadable.map((u) => u.source).join(', ')})` : ''}`,
    });
    if (!('local' in rawFiles)) {
      // The engine checked the files (EMR's runner) and wrote their file-level records itself.
      for (const u of rawFiles.unreadable)
        ctx.warnings.push(`${u.source}: unreadable, quarantined as one file by the runner (${u.reason})`);
      if (rawFiles.quarantined) quarantineByCode[UNREADABLE_FILE] = rawFiles.quarantined;
    } else if (raw?.unreadable.length && !engine.writesInPlace) {
      // Local lakes: the pipeline writes the file-level records below.
      quarantineByCode[UNREADABLE_FILE] = raw.unreadable.length;
    }
  }
  const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.rows]));
  const detail: StepDetail = {
    outputs,
    quarantineByCode,
    dq,
    durationMs: Math.round(result.durationMs),
    ...(rawFiles?.unreadable.length
      ? { unreadableFiles: rawFiles.unreadable.map((u) => ({ source: u.source, reason: u.reason })) }
      : {}),
    ...(raw && ctx.warnings.length ? { warnings: [...ctx.warnings] } : {}),
  };
  const counts = {
    rows_in: result.metrics.rows_in,
    rows_out: result.outputs[job.primaryOutput]?.rows ?? 0,
    quarantined: quarantineOut ? (result.outputs[quarantineOut.statement]?.rows ?? 0) : 0,
    deduplicated: result.metrics.deduplicated,
  };
  const failedChecks = dq.filter((c) => c.status === 'fail');
  if (failedChecks.length > 0) {
    const err = new DataQualityError(
      job.name,
      failedChecks.map((c) => `${c.output}.${c.check}`),
    );
    ledger.record({
      ...base,
      ...counts,
      status: 'failed',
      attempt,
      started_at: startedAt,
      ended_at: now(),
      fingerprint: plan.fingerprint,
      message: engine.writesInPlace
        ? `${err.message} (the step's partitions are already written in place)`
        : err.message,
      detail,
    });
    ctx.progress?.step(job.name, 'failed', 'data quality');
    throw err;
  }
  if (raw?.unreadable.length && quarantineOut && !engine.writesInPlace) {
    const staging = plan.outputs.find((o) => o.statement === quarantineOut.statement)!.stagingDir;
    await writeUnreadableFileRecords(
      path.join(staging, 'part-00001-unreadable-files.parquet'),
      raw.unreadable,
      {
        runId,
        step: job.name,
      },
    );
  }
  crashPoint(`before-commit:${job.name}`);
  if (!engine.writesInPlace) for (const o of plan.outputs) lake.commit(runId, o.stagingDir, o.finalDir);
  crashPoint(`after-commit:${job.name}`);
  const filteredNote = result.metrics.filtered
    ? `${result.metrics.filtered} rows filtered (not eligible)`
    : undefined;
  const rawNote = raw && ctx.warnings.length ? ctx.warnings.join('; ') : undefined;
  const event: StepEvent = {
    ...base,
    ...counts,
    status: 'succeeded',
    attempt,
    started_at: startedAt,
    ended_at: now(),
    fingerprint: plan.fingerprint,
    message: [result.note, filteredNote, rawNote].filter(Boolean).join('; ').slice(0, 2000) || null,
    detail: { ...detail, outputs: { ...outputs, filtered: result.metrics.filtered } },
  };
  ledger.record(event);
  ctx.progress?.step(job.name, 'succeeded', `${counts.rows_out} rows`);
  ctx.log.info(
    {
      step: job.name,
      ...counts,
      filtered: result.metrics.filtered,
      ms: detail.durationMs,
      dq_warn: dq.filter((c) => c.status === 'warn').length,
    },
    'step succeeded',
  );
  return event;
}
