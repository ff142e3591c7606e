import pRetry from 'p-retry';
import type { Config } from '../core/config.ts';
import { DataQualityError, DealFinderError, isRetryable, JobFailedError } from '../core/errors.ts';
import { crashPoint, type Lake } from '../core/lake.ts';
import type { Logger } from '../core/logging.ts';
import type { Engine } from '../jobs/engines/engine.ts';
import type { JobDef } from '../jobs/job.ts';
import { planJob } from '../jobs/plan.ts';
import { selectJobs } from '../jobs/registry.ts';
import { evaluateDq } from './dq.ts';
import { Ledger, type StepDetail, type StepEvent } from './ledger.ts';
import { countByCode } from './outputs.ts';

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
  /** Continue this failed run: its succeeded steps are kept, the rest run again. */
  readonly resume?: string | undefined;
  /** Recompute even when the last run of a step had identical inputs. */
  readonly force?: boolean;
  /** Run only these jobs (and nothing else); default all, in dependency order. */
  readonly only?: readonly string[];
  readonly progress?: ProgressReporter;
  readonly signal?: AbortSignal;
}

export interface RunSummary {
  readonly runId: string;
  readonly date: string;
  readonly engine: string;
  readonly status: 'succeeded' | 'failed';
  readonly steps: StepEvent[];
  readonly wallMs: number;
  readonly error?: DealFinderError;
}

/**
 * Runs the nightly DAG for one date: each job planned, executed by the engine, checked, and its
 * partitions committed atomically; every transition goes to the ledger. Re-running a date with
 * unchanged inputs skips (fingerprints match) or, with force, rewrites identical partitions.
 */
export async function runNightly(options: NightlyOptions): Promise<RunSummary> {
  const started = performance.now();
  const { lake, engine, log, date } = options;
  const jobs = selectJobs(options.only);
  const ledger = new Ledger(lake);
  let runId: string;
  let doneInRun = new Set<string>();
  if (options.resume) {
    runId = options.resume;
    doneInRun = ledger.succeededStepsOf(options.resume, date);
  } else {
    runId = Ledger.newRunId(date);
  }
  const repaired = lake.recover(runId);
  if (repaired.restored.length)
    log.warn({ restored: repaired.restored }, 'restored partitions left half-replaced by a crashed run');

  const steps: StepEvent[] = [];
  options.progress?.start(jobs.map((j) => j.name));
  const runLog = log.child({ run_id: runId, date, engine: engine.name });
  runLog.info({ jobs: jobs.map((j) => j.name), resume: !!options.resume }, 'nightly run started');
  try {
    for (const job of jobs) {
      options.signal?.throwIfAborted();
      const event = await runStep(job, { ...options, runId, ledger, doneInRun, log: runLog });
      steps.push(event);
    }
    options.progress?.stop();
    lake.finish(runId);
    runLog.info({ wall_ms: Math.round(performance.now() - started) }, 'nightly run succeeded');
    return {
      runId,
      date,
      engine: engine.name,
      status: 'succeeded',
      steps,
      wallMs: performance.now() - started,
    };
  } catch (error) {
    options.progress?.stop();
    const err = error instanceof DealFinderError ? error : new JobFailedError('nightly', error, false);
    runLog.error({ code: err.code, err: err.message }, 'nightly run failed');
    const failed = ledger.latestByStep(runId).filter((e) => !steps.some((s) => s.step === e.step));
    return {
      runId,
      date,
      engine: engine.name,
      status: 'failed',
      steps: [...steps, ...failed],
      wallMs: performance.now() - started,
      error: err,
    };
  }
}

async function runStep(
  job: JobDef,
  ctx: NightlyOptions & { runId: string; ledger: Ledger; doneInRun: Set<string> },
): Promise<StepEvent> {
  const { ledger, lake, config, engine, runId, date } = ctx;
  const base = { run_id: runId, run_date: date, engine: engine.name, step: job.name };
  const now = () => new Date().toISOString();
  if (ctx.doneInRun.has(job.name)) {
    const prior = ledger.latestByStep(runId).find((e) => e.step === job.name)!;
    ctx.progress?.step(job.name, 'skipped', 'done before resume');
    return prior;
  }
  const plan = planJob(job, { lake, config, runId, runDate: date });
  if (!ctx.force) {
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
  const startedAt = now();
  let attempt = 0;
  ctx.progress?.step(job.name, 'running');
  ledger.record({
    ...base,
    status: 'running',
    attempt: 1,
    started_at: startedAt,
    ended_at: null,
    rows_in: null,
    rows_out: null,
    quarantined: null,
    deduplicated: null,
    fingerprint: plan.fingerprint,
    message: null,
  });
  let result: Awaited<ReturnType<Engine['run']>>;
  try {
    result = await pRetry(
      async () => {
        attempt++;
        crashPoint(`during:${job.name}`);
        return engine.run(plan, ctx.signal);
      },
      {
        retries: config.pipeline.retries,
        minTimeout: config.pipeline.retryMinDelayMs,
        factor: 2,
        shouldRetry: ({ error }) => isRetryable(error),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (isRetryable(error) && retriesLeft > 0)
            ctx.log.warn(
              { step: job.name, attempt: attemptNumber, err: error.message },
              'transient failure, retrying',
            );
        },
      },
    );
  } catch (error) {
    const err = new JobFailedError(job.name, error, false);
    ledger.record({
      ...base,
      status: 'failed',
      attempt,
      started_at: startedAt,
      ended_at: now(),
      rows_in: null,
      rows_out: null,
      quarantined: null,
      deduplicated: null,
      fingerprint: plan.fingerprint,
      message: err.message,
    });
    ctx.progress?.step(job.name, 'failed', err.message);
    throw err;
  }
  const quarantineOut = job.outputs.find((o) => o.table === 'quarantine');
  const quarantineFiles = quarantineOut ? (result.outputs[quarantineOut.statement]?.files ?? []) : [];
  const quarantineByCode = await countByCode(quarantineFiles);
  const previousRows: Record<string, number | undefined> = {};
  const prev = ledger.previousDate(job.name, date);
  for (const o of job.outputs) previousRows[o.statement] = prev?.detail?.outputs[o.statement];
  const dq = evaluateDq({ job, result, runDate: date, config, previousRows });
  const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.rows]));
  const detail: StepDetail = { outputs, quarantineByCode, dq, durationMs: Math.round(result.durationMs) };
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
      message: err.message,
      detail,
    });
    ctx.progress?.step(job.name, 'failed', 'data quality');
    throw err;
  }
  crashPoint(`before-commit:${job.name}`);
  for (const o of plan.outputs) lake.commit(runId, o.stagingDir, o.finalDir);
  crashPoint(`after-commit:${job.name}`);
  const event: StepEvent = {
    ...base,
    ...counts,
    status: 'succeeded',
    attempt,
    started_at: startedAt,
    ended_at: now(),
    fingerprint: plan.fingerprint,
    message: result.metrics.filtered ? `${result.metrics.filtered} rows filtered (not eligible)` : null,
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
