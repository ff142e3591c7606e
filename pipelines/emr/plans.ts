/**
 * The plans of an EMR run: every job of the night planned up front (they are uploaded once, as
 * plans.json, before any step runs) with inputs resolved at run time by the Spark runner.
 *
 * planJob() lists the Parquet files of each input partition when it plans, which only works for
 * the first job: enrichment, price_trends and features read what earlier steps of the same run
 * write. So an EMR plan names, per input, the partition folders to read
 * (`s3://bucket/lake/deals/dt=2026-11-22/`, one per date of the input's window; the table folder
 * for unpartitioned tables) in `locations`, and the runner lists the `*.parquet` files in them
 * when the step starts (missing folders are empty partitions). Outputs are written in place
 * (`stagingDir` = `finalDir`): S3 has no atomic rename, and the runner overwrites exactly the
 * partition folder it writes (dynamic partition overwrite), so a re-run replaces, never appends.
 *
 * Everything else — statements, parameters, projections, DQ SQL — is planJob()'s and
 * sparkPlanOf()'s, unchanged: what the local engines run is what EMR runs.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../../core/config.ts';
import { addDays, Lake, TABLES } from '../../core/lake.ts';
import { type SparkPlan, sparkPlanOf } from '../../jobs/engines/spark/index.ts';
import type { JobDef } from '../../jobs/job.ts';
import { type PlannedInput, planJob } from '../../jobs/plan.ts';

/** An input whose files the runner lists at run time: `files` is empty, `locations` are folders. */
export type RuntimeInput = PlannedInput & { readonly locations: readonly string[] };

/** A plan in the runner's format with runtime-resolved inputs (one entry of plans.json). */
export type EmrPlan = Omit<SparkPlan, 'inputs'> & { readonly inputs: readonly RuntimeInput[] };

export interface EmrPlanContext {
  readonly config: Config;
  readonly runId: string;
  readonly date: string;
  /** Default: a Lake on config.lake.root. */
  readonly lake?: Lake;
  /** --allow-empty: the runner does not fail on a raw partition without files. */
  readonly allowEmpty?: boolean | undefined;
}

/** Partition folders (with a trailing "/") an input of `job` reads for `date`. */
export function inputLocations(lake: Lake, input: JobDef['inputs'][number], date: string): string[] {
  const table = TABLES[input.table];
  if (!table.partitioned) return [`${lake.partitionDir(input.table)}/`];
  const days = input.days ?? { from: 0, to: 0 };
  const out: string[] = [];
  for (let d = days.from; d <= days.to; d++) out.push(`${lake.partitionDir(input.table, addDays(date, d))}/`);
  return out;
}

/** One job's EMR plan. */
export function emrPlanOf(job: JobDef, ctx: EmrPlanContext): EmrPlan {
  const lake = ctx.lake ?? new Lake(ctx.config.lake.root);
  const plan = planJob(job, { lake, config: ctx.config, runId: ctx.runId, runDate: ctx.date });
  const inputs: RuntimeInput[] = plan.inputs.map((input, i) => ({
    ...input,
    files: [],
    locations: inputLocations(lake, job.inputs[i]!, ctx.date),
    // The raw zone is first listed by the runner on the cluster: it does the raw-input checks.
    ...(input.table === 'raw_deals' ? { checkReadable: true, requireFiles: !ctx.allowEmpty } : {}),
  }));
  const outputs = plan.outputs.map((o) => ({ ...o, stagingDir: o.finalDir }));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ base: plan.fingerprint, locations: inputs.map((i) => i.locations) }))
    .digest('hex')
    .slice(0, 32);
  const spark = sparkPlanOf({ ...plan, inputs, outputs, fingerprint });
  return { ...spark, inputs };
}

/** The run's plans, in the order of `jobs` (dependency order). */
export function emrPlansOf(jobs: readonly JobDef[], ctx: EmrPlanContext): EmrPlan[] {
  return jobs.map((job) => emrPlanOf(job, ctx));
}
