import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DealFinderError } from '../../../core/errors.ts';
import type { JobPlan } from '../../plan.ts';
import type { Engine, JobResult } from '../engine.ts';
import { SparkDriver } from './driver.ts';
import { sparkPlanOf } from './plan.ts';
import type { RunnerItem } from './result.ts';
import type { SparkSettings } from './settings.ts';

/** A job that Spark rejected or failed (SQL error, bad data): not retryable. */
export class SparkJobError extends DealFinderError<{
  readonly job: string;
  readonly errorClass: string | undefined;
}> {
  constructor(
    readonly job: string,
    readonly sparkMessage: string,
    readonly errorClass?: string,
  ) {
    super('spark-job-failed', `spark: ${sparkMessage}`, {
      hint: 'see the Spark error above; fix the job or its input, then `dealctl nightly --resume <run-id>`',
      details: { job, errorClass },
    });
  }
}

/**
 * Runs job plans on Apache Spark through one long-lived local driver (driver.ts), so a whole
 * nightly run pays the launch once while runNightly still plans and commits job by job. Each
 * run() writes the plan in the runner's format (sparkPlanOf) to a file, sends its path and waits
 * for the answer; the result file has the counts, files, DQ metrics and quarantine by reason.
 */
export class SparkEngine implements Engine {
  readonly name = 'spark' as const;
  /** Wall time of every statement run so far, as measured by the driver. */
  readonly timings: { job: string; statement: string; ms: number }[] = [];

  private readonly driver: SparkDriver;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly workDir: string;
  private closed = false;

  constructor(readonly settings: SparkSettings) {
    this.workDir = mkdtempSync(path.join(tmpdir(), 'dealfinder-spark-'));
    this.driver = new SparkDriver(settings, this.workDir);
  }

  static async create(settings: SparkSettings): Promise<SparkEngine> {
    return new SparkEngine(settings);
  }

  /** Launch wall time of each driver started (ms): spark-submit until the runner is ready. */
  get launches(): readonly number[] {
    return this.driver.launches;
  }

  /** Version reported by the running driver (after the first run or start()). */
  get version(): string | undefined {
    return this.driver.version;
  }

  /** Starts the driver now instead of on the first run (optional warm-up). */
  async start(): Promise<void> {
    await this.driver.ready();
  }

  run(plan: JobPlan, signal?: AbortSignal): Promise<JobResult> {
    const result = this.queue.then(() => this.runNow(plan, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(plan: JobPlan, signal?: AbortSignal): Promise<JobResult> {
    if (this.closed) throw new Error('SparkEngine is closed');
    signal?.throwIfAborted();
    const started = performance.now();
    await this.driver.ready();
    const id = this.nextId++;
    const plansFile = path.join(this.workDir, `plans-${id}.json`);
    const resultFile = path.join(this.workDir, `result-${id}.json`);
    writeFileSync(plansFile, JSON.stringify([sparkPlanOf(plan)]));
    try {
      const reply = await this.driver.request({ plans: plansFile, result: resultFile }, signal);
      if (reply.fatal) throw new Error(`spark runner: ${String(reply.fatal)}`);
      const parsed = JSON.parse(readFileSync(resultFile, 'utf8')) as { items: RunnerItem[] };
      const item = parsed.items[0];
      if (!item) throw new Error('spark runner returned no result');
      for (const t of item.timings ?? [])
        this.timings.push({ job: plan.job, statement: t.statement, ms: t.ms });
      if (!item.ok) throw new SparkJobError(plan.job, item.error ?? 'unknown error', item.errorClass);
      const quarantine = plan.outputs.find((o) => o.table === 'quarantine');
      const byCode = quarantine ? item.outputs?.[quarantine.statement]?.byCode : undefined;
      return {
        job: plan.job,
        outputs: item.outputs ?? {},
        metrics: item.metrics ?? { rows_in: 0, deduplicated: 0, filtered: 0 },
        durationMs: performance.now() - started,
        ...(byCode ? { quarantineByCode: byCode } : {}),
      };
    } finally {
      rmSync(plansFile, { force: true });
      rmSync(resultFile, { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.driver.close();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
