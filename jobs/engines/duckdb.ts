import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from '../../core/config.ts';
import { defaultMetaRoot, listParquet, TABLES } from '../../core/lake.ts';
import { dqMetricsSql } from '../dq-sql.ts';
import { duckdbMacroStatements } from '../macros.ts';
import type { JobPlan, PlannedInput } from '../plan.ts';
import { rewriteParams, sqlString } from '../sql-text.ts';
import { classifyDuckdbError } from './duckdb-errors.ts';
import type { Engine, JobResult, OutputResult } from './engine.ts';

export interface DuckDbSettings {
  readonly memoryLimit: string;
  readonly threads: number;
  readonly tempDirectory: string;
}

export function duckDbSettings(config: Config): DuckDbSettings {
  return {
    memoryLimit: config.duckdb.memoryLimit,
    threads: config.duckdb.threads,
    // Spill files are local even for an s3:// lake (beside the local ledger of such a lake).
    tempDirectory:
      config.duckdb.tempDirectory ??
      path.join(config.lake.metaRoot ?? defaultMetaRoot(config.lake.root), '_tmp', 'duckdb'),
  };
}

/** Opens an in-memory DuckDB with the platform's resource limits (memory bounded, spills to disk). */
export async function openDuckDb(
  settings: DuckDbSettings,
  options: { preserveInsertionOrder?: boolean } = {},
): Promise<DuckDBInstance> {
  mkdirSync(settings.tempDirectory, { recursive: true });
  return DuckDBInstance.create(':memory:', {
    memory_limit: settings.memoryLimit,
    threads: String(settings.threads),
    temp_directory: settings.tempDirectory,
    // Jobs never rely on row order; dropping it lets DuckDB stream large outputs in bounded memory.
    preserve_insertion_order: options.preserveInsertionOrder ? 'true' : 'false',
  });
}

/** Runs job plans in-process on DuckDB. */
export class DuckDbEngine implements Engine {
  readonly name = 'duckdb' as const;
  /** Wall time of every statement run so far (for profiling and benchmarks). */
  readonly timings: { job: string; statement: string; ms: number }[] = [];

  private constructor(private readonly instance: DuckDBInstance) {}

  static async create(settings: DuckDbSettings): Promise<DuckDbEngine> {
    return new DuckDbEngine(await openDuckDb(settings));
  }

  async run(plan: JobPlan, signal?: AbortSignal): Promise<JobResult> {
    const started = performance.now();
    const conn = await this.instance.connect();
    const onAbort = () => conn.interrupt();
    signal?.addEventListener('abort', onAbort);
    try {
      for (const stmt of duckdbMacroStatements()) await conn.run(stmt);
      for (const [name, p] of Object.entries(plan.params)) {
        const prepared = await conn.prepare(`SET VARIABLE ${name} = CAST($v AS ${p.type})`);
        prepared.bind({ v: String(p.value) });
        await prepared.run();
      }
      for (const input of plan.inputs)
        await conn.run(`CREATE OR REPLACE TEMP VIEW ${input.view} AS ${inputSql(input)}`);
      const bind = (sql: string) => rewriteParams(sql, (name) => `getvariable(${sqlString(name)})`);
      const outputs: Record<string, OutputResult> = {};
      let metrics: JobResult['metrics'] = { rows_in: 0, deduplicated: 0, filtered: 0 };
      for (const s of plan.statements) {
        signal?.throwIfAborted();
        const t0 = performance.now();
        const sql = bind(s.sql);
        if (s.kind === 'table') await conn.run(`CREATE OR REPLACE TEMP TABLE ${s.name} AS ${sql}`);
        else if (s.kind === 'view') await conn.run(`CREATE OR REPLACE TEMP VIEW ${s.name} AS ${sql}`);
        else if (s.kind === 'metrics') metrics = toMetrics(await readOne(conn, sql));
        else {
          const out = plan.outputs.find((o) => o.statement === s.name);
          if (!out) throw new Error(`no output binding for ${s.name}`);
          rmSync(out.stagingDir, { recursive: true, force: true });
          mkdirSync(out.stagingDir, { recursive: true });
          const file = path.join(out.stagingDir, 'part-00000.parquet');
          const copy = await conn.run(
            `COPY (SELECT ${out.projection.duckdb} FROM (${sql}) AS o) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`,
          );
          const rows = Number(copy.rowsChanged);
          const files = listParquet(out.stagingDir);
          const dqView = `__dq_${s.name}`;
          await conn.run(
            `CREATE OR REPLACE TEMP VIEW ${dqView} AS SELECT * FROM read_parquet(${sqlString(file)})`,
          );
          const dq = await readOne(conn, dqMetricsSql(TABLES[out.table].record, dqView));
          outputs[s.name] = { rows, files, dq };
        }
        this.timings.push({ job: plan.job, statement: s.name, ms: performance.now() - t0 });
      }
      return { job: plan.job, outputs, metrics, durationMs: performance.now() - started };
    } catch (error) {
      throw classifyDuckdbError(error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      conn.closeSync();
    }
  }

  async close(): Promise<void> {
    this.instance.closeSync();
  }
}

async function readOne(conn: DuckDBConnection, sql: string): Promise<Record<string, number | string | null>> {
  const reader = await conn.runAndReadAll(sql);
  const row = reader.getRowObjectsJS()[0] ?? {};
  const out: Record<string, number | string | null> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] =
      typeof v === 'bigint'
        ? Number(v)
        : v === null || v === undefined
          ? null
          : typeof v === 'number'
            ? v
            : String(v);
  }
  return out;
}

function toMetrics(row: Record<string, number | string | null>): JobResult['metrics'] {
  return {
    rows_in: Number(row.rows_in ?? 0),
    deduplicated: Number(row.deduplicated ?? 0),
    filtered: Number(row.filtered ?? 0),
  };
}

/** SELECT over an input's Parquet files with the table's declared columns (or an empty relation). */
export function inputSql(input: PlannedInput): string {
  const cols = input.columns.map((c) => `CAST(${c.name} AS ${c.duckdb}) AS ${c.name}`);
  const extra: string[] = [];
  if (input.partitioned) extra.push('CAST(dt AS DATE) AS dt');
  if (input.provenance) {
    extra.push(
      `concat(${sqlString(`${input.tablePath}/`)}, regexp_extract(filename, '[^/]+/[^/]+$', 0)) AS _source_file`,
    );
    extra.push('CAST(file_row_number AS BIGINT) AS _source_row');
    // One BIGINT per input row, unique within the run: a cheap join key (the file path is a string).
    extra.push('CAST(file_index AS BIGINT) * 4294967296 + CAST(file_row_number AS BIGINT) AS _source_key');
  }
  if (input.files.length === 0) {
    const empty = input.columns.map((c) => `CAST(NULL AS ${c.duckdb}) AS ${c.name}`);
    if (input.partitioned) empty.push('CAST(NULL AS DATE) AS dt');
    if (input.provenance)
      empty.push(
        'CAST(NULL AS VARCHAR) AS _source_file',
        'CAST(NULL AS BIGINT) AS _source_row',
        'CAST(NULL AS BIGINT) AS _source_key',
      );
    return `SELECT ${empty.join(', ')} WHERE 1 = 0`;
  }
  const files = `[${input.files.map(sqlString).join(', ')}]`;
  const options = [
    `hive_partitioning = ${input.partitioned}`,
    input.partitioned ? "hive_types = {'dt': DATE}" : undefined,
    'union_by_name = true',
    input.provenance ? 'filename = true, file_row_number = true' : undefined,
  ].filter(Boolean);
  return `SELECT ${[...cols, ...extra].join(', ')} FROM read_parquet(${files}, ${options.join(', ')})`;
}
