/**
 * `dealctl nightly --engine emr`: the nightly DAG as EMR steps, recorded in the same run ledger as
 * the local engines.
 *
 * All jobs are planned up front with runtime-resolved inputs (plans.ts), uploaded once, and
 * submitted as one step each in dependency order (StepConcurrencyLevel 1) to a transient cluster
 * (RunJobFlow) or to `emr.existingClusterId` (AddJobFlowSteps). The ledger gets one `running`
 * event per step at submission (message: step and cluster id), another when EMR reports it
 * RUNNING, then `succeeded` (rows, DQ from the runner's result JSON in S3) or `failed` (EMR's
 * reason; steps EMR did not run after a failure, a deadline or Ctrl-C are recorded failed with
 * the cause). Glue partitions are registered after every step completed (runOnEmr).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type AwsClients, parseS3Uri } from '../../core/aws.ts';
import { clockOf } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { DataQualityError, DealFinderError, JobFailedError, UsageError } from '../../core/errors.ts';
import type { Lake } from '../../core/lake.ts';
import type { Logger } from '../../core/logging.ts';
import type { JobResult } from '../../jobs/engines/engine.ts';
import { type RunnerItem, SPARK_RUNNER } from '../../jobs/engines/spark.ts';
import type { JobDef } from '../../jobs/job.ts';
import { JOBS, topologicalOrder } from '../../jobs/registry.ts';
import { evaluateDq } from '../dq.ts';
import { Ledger, type StepEvent } from '../ledger.ts';
import type { ProgressReporter, RunSummary } from '../nightly.ts';
import { type EmrRunResult, runOnEmr } from './orchestrator.ts';
import { type EmrPlan, emrPlansOf } from './plans.ts';
import type { StepStatus } from './poller.ts';
import { resultsUriOf } from './requests.ts';

export interface EmrNightlyOptions {
  readonly date: string;
  readonly config: Config;
  /** The lake (an s3:// root); its metaRoot holds the ledger. */
  readonly lake: Lake;
  readonly log: Logger;
  readonly clients: AwsClients;
  /** Run only these jobs (dependency order kept). */
  readonly only?: readonly string[] | undefined;
  /** false: return once the steps are submitted (ledger: submitted steps `running`). Default true. */
  readonly wait?: boolean;
  /** Local PySpark runner to upload; default jobs/spark/runner.py. */
  readonly runnerFile?: string;
  readonly runId?: string;
  /** Continue this failed EMR run: its succeeded steps are kept, the others are submitted again. */
  readonly resume?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly progress?: ProgressReporter | undefined;
  /** Poll backoff etc. for the runner result fetch (tests). */
  readonly stderrFetch?: { attempts: number; waitMs: number };
}

export interface EmrNightlySummary extends RunSummary {
  /** submitted: --no-wait returned after submission (steps are still running on EMR). */
  readonly state: 'succeeded' | 'failed' | 'submitted';
  readonly clusterId: string | undefined;
  readonly stepIds: Record<string, string>;
  readonly emr: EmrRunResult | undefined;
}

/** The jobs of a run, in dependency order. */
export function nightlyJobs(only?: readonly string[]): JobDef[] {
  if (only) {
    const unknown = only.filter((n) => !JOBS.some((j) => j.name === n));
    if (unknown.length)
      throw new UsageError(
        `unknown job(s) ${unknown.join(', ')}`,
        `jobs: ${JOBS.map((j) => j.name).join(', ')}`,
      );
  }
  return topologicalOrder(only ? JOBS.filter((j) => only.includes(j.name)) : JOBS);
}

/** The runner's result JSON of one step (written with --result), or undefined when not readable. */
async function readStepResult(clients: AwsClients, uri: string): Promise<RunnerItem | undefined> {
  try {
    const { bucket, key } = parseS3Uri(uri);
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const parsed = JSON.parse((await got.Body?.transformToString()) ?? '') as { items?: RunnerItem[] };
    return parsed.items?.[0];
  } catch {
    return undefined;
  }
}

export async function runNightlyOnEmr(options: EmrNightlyOptions): Promise<EmrNightlySummary> {
  const started = performance.now();
  const { config, lake, date, clients } = options;
  const ledger = new Ledger(lake);
  let runId = options.runId ?? Ledger.newRunId(date);
  let jobs = nightlyJobs(options.only);
  if (options.resume) {
    const done = ledger.succeededStepsOf(options.resume, date);
    runId = options.resume;
    jobs = jobs.filter((j) => !done.has(j.name));
  }
  const allJobs = nightlyJobs(options.only);
  const plans: EmrPlan[] = emrPlansOf(jobs, { config, runId, date, lake });
  const fingerprintOf = new Map(plans.map((p) => [p.job, p.fingerprint]));
  const log = options.log.child({ run_id: runId, date, engine: 'emr' });
  const resultsUri = resultsUriOf(config, runId);
  const now = () => clockOf(config).now().toISOString();
  const startedAt = new Map<string, string>();
  const stepIds: Record<string, string> = {};
  const final = new Set<string>();
  let clusterId: string | undefined;

  const base = (job: string) => ({
    run_id: runId,
    run_date: date,
    engine: 'emr',
    step: job,
    attempt: 1,
    fingerprint: fingerprintOf.get(job) ?? '',
  });
  const nulls = { rows_in: null, rows_out: null, quarantined: null, deduplicated: null };
  const running = (job: string, message: string) =>
    ledger.record({
      ...base(job),
      ...nulls,
      status: 'running',
      started_at: startedAt.get(job) ?? now(),
      ended_at: null,
      message,
    });
  const failed = (job: string, message: string) => {
    if (final.has(job)) return;
    final.add(job);
    ledger.record({
      ...base(job),
      ...nulls,
      status: 'failed',
      started_at: startedAt.get(job) ?? now(),
      ended_at: now(),
      message: message.slice(0, 2000),
    });
    options.progress?.step(job, 'failed', message.split('\n')[0]);
  };
  let dqError: DataQualityError | undefined;
  const succeeded = async (job: JobDef) => {
    const item = await readStepResult(clients, `${resultsUri}${job.name}.json`);
    const ended = now();
    final.add(job.name);
    if (!item?.outputs) {
      ledger.record({
        ...base(job.name),
        ...nulls,
        status: 'succeeded',
        started_at: startedAt.get(job.name) ?? ended,
        ended_at: ended,
        message: `EMR step ${stepIds[job.name]} completed; no runner result at ${resultsUri}${job.name}.json`,
      });
      options.progress?.step(job.name, 'succeeded');
      return;
    }
    const result: JobResult = {
      job: job.name,
      outputs: item.outputs,
      metrics: item.metrics ?? { rows_in: 0, deduplicated: 0, filtered: 0 },
      durationMs: item.durationMs ?? 0,
    };
    const previousRows: Record<string, number | undefined> = {};
    const prev = ledger.previousDate(job.name, date);
    for (const o of job.outputs) previousRows[o.statement] = prev?.detail?.outputs[o.statement];
    const dq = evaluateDq({ job, result, runDate: date, config, previousRows });
    const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.rows]));
    const quarantineOut = job.outputs.find((o) => o.table === 'quarantine');
    const failedChecks = dq.filter((c) => c.status === 'fail');
    const err = failedChecks.length
      ? new DataQualityError(
          job.name,
          failedChecks.map((c) => `${c.output}.${c.check}`),
        )
      : undefined;
    dqError ??= err;
    ledger.record({
      ...base(job.name),
      rows_in: result.metrics.rows_in,
      rows_out: result.outputs[job.primaryOutput]?.rows ?? 0,
      quarantined: quarantineOut ? (result.outputs[quarantineOut.statement]?.rows ?? 0) : 0,
      deduplicated: result.metrics.deduplicated,
      status: err ? 'failed' : 'succeeded',
      started_at: startedAt.get(job.name) ?? ended,
      ended_at: ended,
      message: err
        ? `${err.message} (the step's partitions are already written in S3)`
        : `EMR step ${stepIds[job.name]}`,
      detail: {
        outputs: { ...outputs, filtered: result.metrics.filtered },
        quarantineByCode: {},
        dq,
        durationMs: Math.round(result.durationMs),
      },
    });
    options.progress?.step(job.name, err ? 'failed' : 'succeeded', err ? 'data quality' : undefined);
  };

  // Step callbacks are synchronous; ledger writes that need S3 are chained and awaited at the end.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (f: () => Promise<void> | void) => {
    queue = queue.then(f).catch((e: unknown) => log.warn({ err: String(e) }, 'ledger update failed'));
  };
  const onStep = (job: string, step: StepStatus) => {
    const def = jobs.find((j) => j.name === job);
    if (!def) return;
    switch (step.state) {
      case 'RUNNING':
        startedAt.set(job, now());
        enqueue(() => running(job, `EMR step ${step.id} RUNNING on ${clusterId}`));
        options.progress?.step(job, 'running');
        break;
      case 'COMPLETED':
        enqueue(() => succeeded(def));
        break;
      case 'FAILED':
      case 'INTERRUPTED': {
        const why = [step.failure?.reason, step.failure?.message].filter(Boolean).join(': ');
        enqueue(() => failed(job, `EMR step ${step.id} ${step.state}${why ? `: ${why}` : ''}`));
        break;
      }
      case 'CANCELLED':
        enqueue(() => failed(job, `EMR step ${step.id} CANCELLED`));
        break;
      default:
        break;
    }
  };

  if (jobs.length === 0) {
    return {
      runId,
      date,
      engine: 'emr',
      status: 'succeeded',
      state: 'succeeded',
      steps: ledger.latestByStep(runId),
      wallMs: performance.now() - started,
      clusterId: undefined,
      stepIds,
      emr: undefined,
    };
  }
  options.progress?.start(jobs.map((j) => j.name));
  log.info(
    { jobs: jobs.map((j) => j.name), cluster: config.emr.existingClusterId ?? 'transient' },
    'nightly run on EMR started',
  );
  let emr: EmrRunResult | undefined;
  let error: DealFinderError | undefined;
  try {
    emr = await runOnEmr(clients, {
      config,
      runId,
      date,
      jobs: jobs.map((j) => j.name),
      runnerFile: options.runnerFile ?? SPARK_RUNNER,
      plans,
      signal: options.signal,
      log,
      wait: options.wait,
      ...(options.stderrFetch ? { stderrFetch: options.stderrFetch } : {}),
      onSubmitted: (cid, steps) => {
        clusterId = cid;
        for (const s of steps) {
          stepIds[s.job] = s.id;
          startedAt.set(s.job, now());
          running(s.job, `submitted as EMR step ${s.id} on ${cid}`);
        }
      },
      onStep,
    });
  } catch (e) {
    error = e instanceof DealFinderError ? e : new JobFailedError('nightly', e, false);
  }
  await queue;
  if (!error && dqError) error = dqError;
  if (error) {
    // Steps EMR did not run (or we stopped waiting for): failed, with the cause.
    const cause = error.message.split('\n')[0]!;
    for (const job of jobs)
      if (stepIds[job.name] && !final.has(job.name)) failed(job.name, `not completed: ${cause}`);
    options.progress?.stop();
    log.error({ code: error.code, err: error.message }, 'nightly run on EMR failed');
  } else {
    options.progress?.stop();
    log.info(
      {
        wall_ms: Math.round(performance.now() - started),
        cluster: clusterId,
        waited: options.wait !== false,
      },
      options.wait === false ? 'nightly run on EMR submitted' : 'nightly run on EMR succeeded',
    );
  }
  const steps: StepEvent[] = allJobs
    .map((j) => ledger.latestByStep(runId).find((e) => e.step === j.name))
    .filter((e): e is StepEvent => !!e);
  return {
    runId,
    date,
    engine: 'emr',
    status: error ? 'failed' : 'succeeded',
    state: error ? 'failed' : options.wait === false ? 'submitted' : 'succeeded',
    steps,
    wallMs: performance.now() - started,
    ...(error ? { error } : {}),
    clusterId,
    stepIds,
    emr,
  };
}
