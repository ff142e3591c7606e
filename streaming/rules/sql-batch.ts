import type { DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Config } from '../../core/config.ts';
import type { JobStatement } from '../../jobs/job.ts';
import { duckdbMacroStatements } from '../../jobs/macros.ts';
import { rewriteParams, sqlString } from '../../jobs/sql-text.ts';
import { type RecordDef, sqlProjectionOf, sqlTypeOf } from '../../schemas/index.ts';

/**
 * Runs the batch jobs' SQL (jobs/sql/*.sql, with the DuckDB macros) on micro-batches in an
 * embedded DuckDB, so the real-time stages apply exactly the rules of the nightly jobs.
 */
export class SqlBatch {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(
    instance: DuckDBInstance,
    params: Record<string, { type: string; value: string | number }>,
  ): Promise<SqlBatch> {
    const conn = await instance.connect();
    for (const stmt of duckdbMacroStatements()) await conn.run(stmt);
    const b = new SqlBatch(instance, conn);
    for (const [name, p] of Object.entries(params)) await b.setParam(name, p.type, p.value);
    return b;
  }

  async setParam(name: string, type: string, value: string | number): Promise<void> {
    const prepared = await this.conn.prepare(`SET VARIABLE ${name} = CAST($v AS ${type})`);
    prepared.bind({ v: String(value) });
    await prepared.run();
  }

  bind(sql: string): string {
    return rewriteParams(sql, (name) => `getvariable(${sqlString(name)})`);
  }

  /** Runs a job's @table/@view statement as a temp table/view. */
  async runStatement(s: JobStatement): Promise<void> {
    const sql = this.bind(s.sql);
    if (s.kind === 'view') await this.conn.run(`CREATE OR REPLACE TEMP VIEW ${s.name} AS ${sql}`);
    else await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${s.name} AS ${sql}`);
  }

  private readonly inserts = new Map<string, DuckDBPreparedStatement>();

  private columns(def: RecordDef, extra: Record<string, string>): [string, string][] {
    return [
      ...Object.entries(def.fields).map(([n, spec]): [string, string] => [n, sqlTypeOf(spec, 'duckdb')]),
      ...Object.entries(extra),
    ];
  }

  /** Creates (or replaces) an empty temp table with the record's columns (+ extra name → type). */
  async createTable(name: string, def: RecordDef, extra: Record<string, string> = {}): Promise<void> {
    const cols = this.columns(def, extra);
    await this.conn.run(
      `CREATE OR REPLACE TEMP TABLE ${name} (${cols.map(([n, t]) => `${n} ${t}`).join(', ')})`,
    );
    const structure = Object.fromEntries(
      cols.map(([n, t]) => [n, t === 'TIMESTAMP' || t === 'DATE' ? 'VARCHAR' : t]),
    );
    const projection = cols.map(([n, t]) => `CAST(r.${n} AS ${t})`).join(', ');
    this.inserts.set(
      name,
      await this.conn.prepare(
        `INSERT INTO ${name} SELECT ${projection} FROM (SELECT unnest(from_json(CAST($j AS JSON), ${sqlString(
          JSON.stringify([structure]),
        )}), recursive := true)) AS r`,
      ),
    );
  }

  /**
   * Replaces the rows of a table made by createTable with JS rows (one JSON parameter,
   * timestamps as ISO strings).
   */
  async replaceRows(name: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    const insert = this.inserts.get(name);
    if (!insert) throw new Error(`table ${name} was not created with createTable`);
    await this.conn.run(`DELETE FROM ${name}`);
    if (rows.length === 0) return;
    insert.bind({ j: JSON.stringify(rows) });
    await insert.run();
  }

  /** createTable + replaceRows. */
  async loadRows(
    name: string,
    def: RecordDef,
    rows: readonly Record<string, unknown>[],
    extra: Record<string, string> = {},
  ): Promise<void> {
    await this.createTable(name, def, extra);
    await this.replaceRows(name, rows);
  }

  /** Creates a job's @table/@view statement as a temp VIEW (recomputed on each read: micro-batches are small). */
  async createView(s: JobStatement): Promise<void> {
    await this.conn.run(`CREATE OR REPLACE TEMP VIEW ${s.name} AS ${this.bind(s.sql)}`);
  }

  /** Rows of a query, typed per the record: timestamps as ISO-8601 UTC strings, BIGINTs as numbers. */
  async readRecords(def: RecordDef, sql: string): Promise<Record<string, unknown>[]> {
    return this.rows(recordsSql(def, sql));
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return plain((await this.conn.runAndReadAll(sql)).getRowObjectsJS());
  }

  /**
   * A query planned once and run many times (the micro-batch path: DuckDB's planning of the job
   * SQL costs more than running it on a few hundred rows). Tables it reads may change rows, not columns.
   */
  async prepareQuery(sql: string): Promise<() => Promise<Record<string, unknown>[]>> {
    // A plan must not bake in the statistics of the rows present at prepare time (DuckDB folds
    // e.g. "column IS NULL" to a constant on an empty table).
    await this.conn.run("SET disabled_optimizers = 'statistics_propagation'");
    const prepared = await this.conn.prepare(sql);
    return async () => plain((await prepared.runAndReadAll()).getRowObjectsJS());
  }

  /** readRecords' query, prepared. */
  async prepareRecords(def: RecordDef, sql: string): Promise<() => Promise<Record<string, unknown>[]>> {
    return this.prepareQuery(recordsSql(def, sql));
  }

  close(): void {
    this.conn.closeSync();
    void this.instance;
  }
}

function recordsSql(def: RecordDef, sql: string): string {
  const outer = Object.entries(def.fields)
    .map(([n, spec]) =>
      spec.kind === 'timestamp'
        ? `strftime(o.${n}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${n}`
        : spec.kind === 'date'
          ? `CAST(o.${n} AS VARCHAR) AS ${n}`
          : `o.${n}`,
    )
    .join(', ');
  return `SELECT ${outer} FROM (SELECT ${sqlProjectionOf(def, 'duckdb')} FROM (${sql}) AS i) AS o`;
}

function plain(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : (v ?? null);
    return out;
  });
}

/** The platform's job parameters for rules run outside a nightly run. */
export function ruleParams(
  config: Config,
  runDate: string,
): Record<string, { type: string; value: string | number }> {
  return {
    run_date: { type: 'DATE', value: runDate },
    run_id: { type: 'VARCHAR', value: 'stream' },
    max_plausible_price: { type: 'DOUBLE', value: config.jobs.maxPlausiblePrice },
    dedupe_window_hours: { type: 'DOUBLE', value: config.jobs.dedupeWindowHours },
    min_match_confidence: { type: 'DOUBLE', value: config.jobs.minMatchConfidence },
  };
}
