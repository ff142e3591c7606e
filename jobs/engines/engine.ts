import { DealFinderError } from '../../core/errors.ts';
import type { JobDef } from '../job.ts';
import type { JobPlan, PlanContext } from '../plan.ts';

export type EngineName = 'duckdb' | 'spark' | 'emr';

export interface OutputResult {
  readonly rows: number;
  readonly files: readonly string[];
  /** Raw data-quality metrics (see jobs/dq-sql.ts), keyed by metric name. */
  readonly dq: Record<string, number | string | null>;
}

export interface JobResult {
  readonly job: string;
  readonly outputs: Record<string, OutputResult>;
  /** From the job's @metrics statement. */
  readonly metrics: { rows_in: number; deduplicated: number; filtered: number };
  readonly durationMs: number;
  /**
   * Quarantined rows per reason, when the engine counted them where it wrote them (EMR: the
   * runner's result). Absent: the pipeline counts them from the local quarantine files.
   */
  readonly quarantineByCode?: Record<string, number>;
  /** A note for the step's ledger event (EMR: the step id). */
  readonly note?: string;
  /** Raw files the engine checked itself (EMR's runner): how many were readable, which were not. */
  readonly rawFiles?: RawFilesReport;
}

export interface RawFilesReport {
  readonly readable: number;
  readonly unreadable: readonly { source: string; reason: string }[];
  /** File-level quarantine records the engine wrote for them (one per unreadable file). */
  readonly quarantined?: number;
}

/** Every plan of a run, for an engine that accepts the whole run at once (EMR submits all steps). */
export interface RunBatch {
  readonly runId: string;
  readonly date: string;
  /** The plans of the steps to run now, in dependency order. */
  readonly plans: readonly JobPlan[];
  /** Latest ledger status of each of the run's steps before this invocation (a resumed run). */
  readonly previous: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** The engine accepted or started a step: the runner records it `running` with this message. */
  readonly onStepRunning: (job: string, message: string) => void;
}

export interface BatchStarted {
  /** true: the steps were handed over and not waited for (--no-wait); run() is not called. */
  readonly detached: boolean;
}

/**
 * One engine runs job plans. It writes each output to the plan's staging folder and reports
 * counts and DQ metrics; committing partitions and the ledger belong to the pipeline
 * (pipelines/nightly.ts, the one DAG runner for every engine).
 *
 * The optional members are for engines that run remotely (EMR): they plan differently (inputs
 * resolved when the step starts), accept the whole run before the first run() call, write
 * partitions where they stay (no local commit), and have a post-commit hook (Glue partitions).
 */
export interface Engine {
  readonly name: EngineName;
  run(plan: JobPlan, signal?: AbortSignal): Promise<JobResult>;
  close(): Promise<void>;
  /** The engine's plan of a job (default: planJob). */
  plan?(job: JobDef, ctx: PlanContext): JobPlan;
  /** Hands every step of a run to the engine before the first run() (which then awaits its step). */
  begin?(batch: RunBatch): Promise<BatchStarted>;
  /** Stops what begin() started and the runner no longer waits for (a failed run's later steps). */
  cancel?(reason: string): Promise<void>;
  /** Outputs are written at their final place (stagingDir = finalDir): the pipeline commits nothing. */
  readonly writesInPlace?: boolean;
  /** After every step of the run committed (EMR: register the partitions in Glue). */
  afterRun?(run: { runId: string; date: string; jobs: readonly string[] }): Promise<void>;
}

/**
 * A step failure whose ledger message is the step's own outcome ("EMR step s-2 FAILED: …",
 * "not completed: …") while the run fails with `runError` as is (its code, hint and exit code),
 * instead of the generic job-failed wrapper.
 */
export class EngineStepError extends DealFinderError {
  constructor(
    readonly stepMessage: string,
    readonly runError: DealFinderError,
  ) {
    super(runError.code, runError.message, {
      hint: runError.hint,
      exitCode: runError.exitCode,
      details: runError.details,
      cause: runError,
    });
  }
}
