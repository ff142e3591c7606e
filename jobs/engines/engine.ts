import type { JobPlan } from '../plan.ts';

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
}

/**
 * One engine runs job plans. It writes each output to the plan's staging folder and reports
 * counts and DQ metrics; committing partitions and the ledger belong to the pipeline.
 */
export interface Engine {
  readonly name: EngineName;
  run(plan: JobPlan, signal?: AbortSignal): Promise<JobResult>;
  close(): Promise<void>;
}
