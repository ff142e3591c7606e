import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Config } from '../core/config.ts';
import { addDays, type Lake, TABLES, type TableName } from '../core/lake.ts';
import { type RecordDef, type SqlDialect, sqlProjectionOf, sqlTypeOf } from '../schemas/index.ts';
import { type JobDef, type JobStatement, loadJobSql, type ParamValue } from './job.ts';
import { MACROS } from './macros.ts';

/**
 * Everything an engine needs to run one job for one date, as plain data. The DuckDB engine runs
 * it in-process; the Spark runner (jobs/spark/runner.py) reads the same plan as JSON. Paths are
 * resolved, parameters typed, SQL final: engines add nothing of their own but the macro bodies.
 */
export interface JobPlan {
  readonly job: string;
  readonly kind: JobDef['kind'];
  readonly runId: string;
  readonly runDate: string;
  readonly params: Record<string, ParamValue>;
  readonly inputs: readonly PlannedInput[];
  readonly statements: readonly JobStatement[];
  readonly outputs: readonly PlannedOutput[];
  readonly primaryOutput: string;
  readonly macros: { readonly duckdb: readonly string[]; readonly spark: readonly string[] };
  /**
   * Hash of inputs (paths, sizes, mtimes), SQL, params, macros, the input and output schemas
   * (schemas/) and the job's code version: equal fingerprints mean equal outputs (planFingerprint).
   */
  readonly fingerprint: string;
}

export interface PlannedInput {
  readonly view: string;
  readonly table: TableName;
  /** Parquet files to read (may be empty: the view is then created empty with the table's columns). */
  readonly files: readonly string[];
  readonly partitioned: boolean;
  readonly provenance: boolean;
  /** Table path relative to the lake root, used to build _source_file. */
  readonly tablePath: string;
  /** Column names and types per dialect, for empty inputs. */
  readonly columns: readonly { name: string; duckdb: string; spark: string }[];
  /**
   * Runtime-resolved inputs only (EMR, where the raw files are first seen by the runner): leave out
   * and report files whose Parquet footer cannot be read, and fail when none is left.
   */
  readonly checkReadable?: boolean;
  readonly requireFiles?: boolean;
}

export interface PlannedOutput {
  readonly statement: string;
  readonly table: TableName;
  readonly stagingDir: string;
  readonly finalDir: string;
  /** SELECT list casting the statement's columns to the table's declared types and order. */
  readonly projection: Record<SqlDialect, string>;
}

export interface PlanContext {
  readonly lake: Lake;
  readonly config: Config;
  readonly runId: string;
  readonly runDate: string;
  /** Input files left out (raw files found unreadable: quarantined file-level by the pipeline). */
  readonly skipFiles?: ReadonlySet<string> | undefined;
  /** An intentionally empty night (--allow-empty): a missing raw partition is not an error. */
  readonly allowEmpty?: boolean | undefined;
}

export function planJob(job: JobDef, ctx: PlanContext): JobPlan {
  const statements = loadJobSql(job);
  const params: Record<string, ParamValue> = {
    run_date: { type: 'DATE', value: ctx.runDate },
    run_id: { type: 'VARCHAR', value: ctx.runId },
    ...jobParams(job, ctx.config),
  };
  const inputs = job.inputs.map((input): PlannedInput => {
    const table = TABLES[input.table];
    const files = (
      table.partitioned
        ? rangeDates(ctx.runDate, input.days ?? { from: 0, to: 0 }).flatMap((d) =>
            ctx.lake.partitionFiles(input.table, d),
          )
        : ctx.lake.partitionFiles(input.table)
    ).filter((f) => !ctx.skipFiles?.has(f));
    const columns = Object.entries(table.record.fields).map(([name, spec]) => ({
      name,
      duckdb: sqlTypeOf(spec, 'duckdb'),
      spark: sqlTypeOf(spec, 'spark'),
    }));
    return {
      view: input.view,
      table: input.table,
      files,
      partitioned: table.partitioned,
      provenance: input.provenance ?? false,
      tablePath: table.path,
      columns,
    };
  });
  const outputs = job.outputs.map((o): PlannedOutput => {
    const record = TABLES[o.table].record;
    return {
      statement: o.statement,
      table: o.table,
      stagingDir: ctx.lake.stagingDir(ctx.runId, o.table, ctx.runDate, o.subpartition),
      finalDir: ctx.lake.partitionDir(o.table, ctx.runDate, o.subpartition),
      projection: { duckdb: sqlProjectionOf(record, 'duckdb'), spark: sqlProjectionOf(record, 'spark') },
    };
  });
  const macros = {
    duckdb: MACROS.map((m) => `${m.name}:${m.duckdb}`),
    spark: MACROS.map((m) => `${m.name}:${m.spark}`),
  };
  const fingerprint = planFingerprint({
    job,
    statements,
    params,
    macros,
    inputs,
    outputSchemas: Object.fromEntries(job.outputs.map((o) => [o.statement, TABLES[o.table].record])),
    inputFiles: inputs
      .flatMap((i) => i.files)
      .map((f) => {
        const st = statSync(f);
        return { path: f, size: st.size, mtimeMs: st.mtimeMs };
      }),
  });
  return {
    job: job.name,
    kind: job.kind,
    runId: ctx.runId,
    runDate: ctx.runDate,
    params,
    inputs,
    statements,
    outputs,
    primaryOutput: job.primaryOutput,
    macros,
    fingerprint,
  };
}

/**
 * Bump when the way a plan runs changes outside the job's SQL, macros and schemas (the engines'
 * binding of inputs or writing of outputs), so every step recomputes once after the upgrade.
 */
export const PLAN_FORMAT_VERSION = 2;

export interface FingerprintParts {
  readonly job: Pick<JobDef, 'name' | 'kind' | 'inputs' | 'outputs' | 'params' | 'version'>;
  readonly statements: readonly JobStatement[];
  readonly params: Record<string, ParamValue>;
  readonly macros: JobPlan['macros'];
  readonly inputs: readonly Pick<PlannedInput, 'view' | 'columns'>[];
  /** The declared record (schemas/) of every output, keyed by output statement. */
  readonly outputSchemas: Record<string, RecordDef>;
  readonly inputFiles: readonly { path: string; size: number; mtimeMs: number }[];
}

/**
 * What a step's outputs depend on, hashed: a change in any part (a column added in schemas/, a
 * job's SQL or version, a config parameter, an input file) gives a new fingerprint, so the step
 * recomputes instead of keeping Parquet of the old shape as "up to date". The run id is left out:
 * re-running a date with identical inputs must match.
 */
export function planFingerprint(parts: FingerprintParts): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: PLAN_FORMAT_VERSION,
      job: {
        name: parts.job.name,
        kind: parts.job.kind,
        version: parts.job.version ?? 1,
        inputs: parts.job.inputs,
        outputs: parts.job.outputs,
        params: parts.job.params,
      },
      statements: parts.statements,
      params: { ...parts.params, run_id: undefined },
      macros: parts.macros,
      inputColumns: parts.inputs.map((i) => [i.view, i.columns]),
      outputSchemas: Object.entries(parts.outputSchemas).map(([statement, record]) => [
        statement,
        record.name,
        record.fields,
      ]),
    }),
  );
  for (const f of parts.inputFiles) hash.update(`${f.path}:${f.size}:${f.mtimeMs}`);
  return hash.digest('hex').slice(0, 32);
}

function rangeDates(runDate: string, days: { from: number; to: number }): string[] {
  const out: string[] = [];
  for (let d = days.from; d <= days.to; d++) out.push(addDays(runDate, d));
  return out;
}

/**
 * The config → SQL parameter mapping, defined once: every parameter a job (jobs/sql) or a
 * streaming rule (streaming/rules) may declare, besides run_date and run_id.
 */
export function configParams(config: Config): Record<string, ParamValue> {
  return {
    max_plausible_price: { type: 'DOUBLE', value: config.jobs.maxPlausiblePrice },
    dedupe_window_hours: { type: 'DOUBLE', value: config.jobs.dedupeWindowHours },
    min_match_confidence: { type: 'DOUBLE', value: config.jobs.minMatchConfidence },
    price_drop_pct: { type: 'DOUBLE', value: config.jobs.priceDropPct },
    price_drop_usd: { type: 'DOUBLE', value: config.jobs.priceDropUsd },
  };
}

/** Every parameter SQL outside a nightly step may use: run_date, run_id and configParams(). */
export function sqlParams(config: Config, runDate: string, runId: string): Record<string, ParamValue> {
  return {
    run_date: { type: 'DATE', value: runDate },
    run_id: { type: 'VARCHAR', value: runId },
    ...configParams(config),
  };
}

function jobParams(job: JobDef, config: Config): Record<string, ParamValue> {
  const all = configParams(config);
  const out: Record<string, ParamValue> = {};
  for (const p of job.params) {
    const v = all[p];
    if (!v) throw new Error(`job ${job.name} declares parameter ${p} that no config provides`);
    out[p] = v;
  }
  return out;
}
