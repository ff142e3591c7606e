/**
 * Spark on AWS EMR behind the Engine interface, so pipelines/nightly.ts drives EMR runs like
 * DuckDB and local Spark (ledger, resume, --only, DQ, quarantine by reason).
 *
 * begin() uploads the runner and the run's plans, makes sure the Glue tables exist and submits one
 * step per job in dependency order (transient cluster, or emr.existingClusterId), then polls all
 * of them in the background; run(plan) awaits its job's step and reads the runner's result JSON
 * from S3 (an unreadable or malformed one fails the step: EmrStepResultError). Outputs are
 * written in place by the runner (writesInPlace); afterRun registers the partitions in Glue.
 * With wait: false, begin() returns once the steps are submitted (detached); the submission is
 * kept beside the ledger so a later `nightly --resume RUN` / `emr watch RUN` awaits those steps
 * instead of submitting new ones.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type AwsClients, parseS3Uri } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import { DealFinderError } from '../../core/errors.ts';
import type { Lake } from '../../core/lake.ts';
import type { Logger } from '../../core/logging.ts';
import {
  type BatchStarted,
  type Engine,
  EngineStepError,
  type JobResult,
  type RunBatch,
} from '../../jobs/engines/engine.ts';
import { parseRunnerResult, SPARK_RUNNER } from '../../jobs/engines/spark/index.ts';
import type { JobDef } from '../../jobs/job.ts';
import type { JobPlan, PlanContext } from '../../jobs/plan.ts';
import { addPartitions, partitionInputOf } from '../glue/catalog.ts';
import { EmrStepResultError } from './errors.ts';
import { awaitEmrRun, partitionsOfJobs, type SubmittedEmrRun, submitEmrRun } from './orchestrator.ts';
import { emrPlanOf } from './plans.ts';
import type { StepStatus } from './poller.ts';
import { resultsUriOf } from './requests.ts';

export interface EmrEngineOptions {
  readonly config: Config;
  readonly clients: AwsClients;
  /** The lake (an s3:// root); its metaRoot holds the ledger and the run's submission record. */
  readonly lake: Lake;
  readonly log: Logger;
  /** false: begin() returns once the steps are submitted (--no-wait). Default true. */
  readonly wait?: boolean | undefined;
  /** Local PySpark runner to upload; default jobs/spark/runner.py. */
  readonly runnerFile?: string | undefined;
  /** How long to look for a failed step's stderr (tests: no waiting). */
  readonly stderrFetch?: { attempts: number; waitMs: number } | undefined;
}

interface Waiter {
  readonly promise: Promise<StepStatus>;
  resolve(step: StepStatus): void;
  reject(error: unknown): void;
  settled: boolean;
  last?: StepStatus;
}

function waiter(): Waiter {
  let resolve!: (s: StepStatus) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<StepStatus>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Later steps' waiters may be rejected after the runner stopped awaiting (it stops at the first failure).
  promise.catch(() => undefined);
  const w: Waiter = {
    promise,
    settled: false,
    resolve: (s) => {
      w.settled = true;
      resolve(s);
    },
    reject: (e) => {
      w.settled = true;
      reject(e);
    },
  };
  return w;
}

const FAILED_STATES = new Set(['FAILED', 'INTERRUPTED', 'CANCELLED']);

export class EmrEngine implements Engine {
  readonly name = 'emr' as const;
  readonly writesInPlace = true;
  /** Set once the steps are submitted (or, on resume, found). */
  clusterId: string | undefined;
  readonly stepIds: Record<string, string> = {};
  timings: Record<string, number> | undefined;

  private readonly waiters = new Map<string, Waiter>();
  private watching: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(private readonly options: EmrEngineOptions) {}

  plan(job: JobDef, ctx: PlanContext): JobPlan {
    return emrPlanOf(job, {
      config: this.options.config,
      runId: ctx.runId,
      date: ctx.runDate,
      lake: ctx.lake,
      allowEmpty: ctx.allowEmpty,
    });
  }

  private submissionFile(runId: string): string {
    return this.options.lake.metaDir('emr-submissions', `${runId}.json`);
  }

  private saveSubmission(runId: string, run: SubmittedEmrRun): void {
    const file = this.submissionFile(runId);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(run)}\n`);
    renameSync(`${file}.tmp`, file);
  }

  /** The earlier submission of these steps, when the ledger still has every one of them running. */
  private earlierSubmission(batch: RunBatch): SubmittedEmrRun | undefined {
    let run: SubmittedEmrRun;
    try {
      run = JSON.parse(readFileSync(this.submissionFile(batch.runId), 'utf8')) as SubmittedEmrRun;
    } catch {
      return undefined;
    }
    const jobs = batch.plans.map((p) => p.job);
    const steps = run.steps.filter((s) => jobs.includes(s.job));
    if (steps.length !== jobs.length || !jobs.every((j) => batch.previous[j] === 'running')) return undefined;
    return { ...run, steps };
  }

  async begin(batch: RunBatch): Promise<BatchStarted> {
    const { config, clients, log } = this.options;
    const signal = batch.signal ? AbortSignal.any([batch.signal, this.stop.signal]) : this.stop.signal;
    let run = this.earlierSubmission(batch);
    if (run) {
      this.clusterId = run.clusterId;
      for (const s of run.steps) {
        this.stepIds[s.job] = s.id;
        batch.onStepRunning(s.job, `awaiting EMR step ${s.id} on ${run.clusterId} (submitted earlier)`);
      }
    } else {
      const submitted = await submitEmrRun(clients, {
        config,
        runId: batch.runId,
        date: batch.date,
        jobs: batch.plans.map((p) => p.job),
        runnerFile: this.options.runnerFile ?? SPARK_RUNNER,
        plans: batch.plans,
        signal,
        log,
        onSubmitted: (clusterId, steps) => {
          this.clusterId = clusterId;
          this.saveSubmission(batch.runId, {
            clusterId,
            transient: !config.emr.existingClusterId,
            steps,
          });
          for (const s of steps) {
            this.stepIds[s.job] = s.id;
            batch.onStepRunning(s.job, `submitted as EMR step ${s.id} on ${clusterId}`);
          }
        },
      });
      this.timings = submitted.timings;
      run = submitted;
    }
    if (this.options.wait === false) return { detached: true };
    for (const s of run.steps) this.waiters.set(s.job, waiter());
    const clusterId = run.clusterId;
    this.watching = awaitEmrRun(
      clients,
      {
        config,
        signal,
        log,
        ...(this.options.stderrFetch ? { stderrFetch: this.options.stderrFetch } : {}),
        onStep: (job, step) => {
          const w = this.waiters.get(job);
          if (!w || w.settled) return;
          w.last = step;
          if (step.state === 'RUNNING')
            batch.onStepRunning(job, `EMR step ${step.id} RUNNING on ${clusterId}`);
          else if (step.state === 'COMPLETED') w.resolve(step);
        },
      },
      run,
    ).then(
      () => {
        for (const [job, w] of this.waiters)
          if (!w.settled) w.reject(new Error(`EMR reported the run complete without step ${job}`));
      },
      (error: unknown) => this.failOpenSteps(error),
    );
    return { detached: false };
  }

  /** Every step not yet completed fails: the one EMR failed with its state, the others as not completed. */
  private failOpenSteps(error: unknown): void {
    const runError =
      error instanceof DealFinderError
        ? error
        : new DealFinderError('emr-step-failed', `EMR run failed: ${String(error)}`, { cause: error });
    const cause = runError.message.split('\n')[0]!;
    for (const w of this.waiters.values()) {
      if (w.settled) continue;
      const step = w.last;
      const own =
        step && FAILED_STATES.has(step.state)
          ? `EMR step ${step.id} ${step.state}${failureText(step)}`
          : `not completed: ${cause}`;
      w.reject(new EngineStepError(own, runError));
    }
  }

  async run(plan: JobPlan): Promise<JobResult> {
    const w = this.waiters.get(plan.job);
    if (!w) throw new Error(`EMR: no step was submitted for ${plan.job}`);
    const started = performance.now();
    const step = await w.promise;
    const uri = `${resultsUriOf(this.options.config, plan.runId)}${plan.job}.json`;
    const expected = {
      job: plan.job,
      outputs: plan.outputs.map((o) => ({ statement: o.statement, quarantine: o.table === 'quarantine' })),
    };
    let text: string;
    try {
      const { bucket, key } = parseS3Uri(uri);
      const got = await this.options.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      text = (await got.Body?.transformToString()) ?? '';
    } catch (error) {
      throw this.unusable(
        plan.job,
        step.id,
        uri,
        `not readable (${(error as Error).name}: ${(error as Error).message})`,
      );
    }
    const parsed = parseRunnerResult(text, expected);
    if (!parsed.ok) throw this.unusable(plan.job, step.id, uri, parsed.problem);
    const { item } = parsed;
    const quarantine = plan.outputs.find((o) => o.table === 'quarantine');
    const outputs = Object.fromEntries(
      Object.entries(item.outputs ?? {}).map(([k, o]) => [k, { rows: o.rows, files: o.files, dq: o.dq }]),
    );
    return {
      job: plan.job,
      outputs,
      metrics: item.metrics!,
      durationMs: item.durationMs ?? performance.now() - started,
      ...(quarantine ? { quarantineByCode: item.outputs?.[quarantine.statement]?.byCode ?? {} } : {}),
      note: `EMR step ${step.id}`,
      ...(item.rawFiles ? { rawFiles: item.rawFiles } : {}),
    };
  }

  private unusable(job: string, stepId: string, uri: string, problem: string): EngineStepError {
    const error = new EmrStepResultError(job, stepId, uri, problem);
    return new EngineStepError(error.message, error);
  }

  async cancel(reason: string): Promise<void> {
    if (!this.watching) return;
    if (![...this.waiters.values()].every((w) => w.settled)) {
      this.options.log.warn({ reason }, 'emr: the run failed; cancelling its unfinished steps');
      this.stop.abort(new Error(reason));
    }
    await this.watching;
  }

  async afterRun(run: { runId: string; date: string; jobs: readonly string[] }): Promise<void> {
    const { config, clients } = this.options;
    if (!config.glue.enabled) return;
    const partitions = partitionsOfJobs(run.jobs, run.date).map((p) => partitionInputOf(p, config.lake.root));
    await addPartitions(
      clients.glue,
      { database: config.glue.database, catalogId: config.glue.catalogId },
      partitions,
    );
  }

  async close(): Promise<void> {
    await this.watching;
  }
}

function failureText(step: StepStatus): string {
  const why = [step.failure?.reason, step.failure?.message].filter(Boolean).join(': ');
  return why ? `: ${why}` : '';
}
