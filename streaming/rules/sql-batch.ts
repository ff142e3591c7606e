import {
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBPreparedStatement,
  dateValue,
  timestampValue,
} from '@duckdb/node-api';
import type { Config } from '../../core/config.ts';
import type { JobStatement } from '../../jobs/job.ts';
import { duckdbMacroStatements } from '../../jobs/macros.ts';
import { sqlParams } from '../../jobs/plan.ts';
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
  /** Column names and DuckDB types of the tables made by createTable. */
  private readonly tableColumns = new Map<string, [string, string][]>();
  /** Whether a createTable table may hold rows (only replaceRows writes them): skips needless DELETEs. */
  private readonly filled = new Map<string, boolean>();

  private columns(def: RecordDef, extra: Record<string, string>): [string, string][] {
    return [
      ...Object.entries(def.fields).map(([n, spec]): [string, string] => [n, sqlTypeOf(spec, 'duckdb')]),
      ...Object.entries(extra),
    ];
  }

  /** Creates (or replaces) an empty temp table with the record's columns (+ extra name → type). */
  async createTable(name: string, def: RecordDef, extra: Record<string, string> = {}): Promise<void> {
    const cols = this.columns(def, extra);
    this.tableColumns.set(name, cols);
    this.filled.set(name, false);
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
   * Replaces the rows of a table made by createTable with JS rows (timestamps as ISO strings).
   * Rows go in through DuckDB's appender (no JSON round trip); a value the appender path cannot
   * convert exactly (an unparseable timestamp, a type without a converter) sends the whole batch
   * through the JSON insert, whose CASTs then apply (and fail) as before.
   */
  async replaceRows(name: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    const insert = this.inserts.get(name);
    const cols = this.tableColumns.get(name);
    if (!insert || !cols) throw new Error(`table ${name} was not created with createTable`);
    if (this.filled.get(name) !== false) await this.conn.run(`DELETE FROM ${name}`);
    this.filled.set(name, false);
    if (rows.length === 0) return;
    this.filled.set(name, true);
    if (await this.appendRows(name, cols, rows)) return;
    await this.conn.run(`DELETE FROM ${name}`);
    insert.bind({ j: JSON.stringify(rows) });
    await insert.run();
  }

  private async appendRows(
    name: string,
    cols: readonly [string, string][],
    rows: readonly Record<string, unknown>[],
  ): Promise<boolean> {
    const writers = cols.map(([, type]) => APPEND[type]);
    if (writers.some((w) => w === undefined)) return false;
    const appender = await this.conn.createAppender(name, 'main', 'temp');
    try {
      for (const row of rows) {
        for (let c = 0; c < cols.length; c++) {
          const v = row[cols[c]![0]];
          if (v === null || v === undefined) appender.appendNull();
          else if (!writers[c]!(appender, v)) {
            appender.clear();
            return false;
          }
        }
        appender.endRow();
      }
      appender.flushSync();
      return true;
    } finally {
      appender.closeSync();
    }
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

/** Appends one non-null value of a DuckDB column type; false when it cannot be converted exactly. */
const APPEND: Record<string, ((a: DuckDBAppender, v: unknown) => boolean) | undefined> = {
  VARCHAR: (a, v) => {
    if (typeof v !== 'string') return false;
    a.appendVarchar(v);
    return true;
  },
  DOUBLE: (a, v) => {
    if (typeof v !== 'number') return false;
    a.appendDouble(v);
    return true;
  },
  BIGINT: (a, v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return false;
    a.appendBigInt(BigInt(v));
    return true;
  },
  INTEGER: (a, v) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) return false;
    a.appendInteger(v);
    return true;
  },
  BOOLEAN: (a, v) => {
    if (typeof v !== 'boolean') return false;
    a.appendBoolean(v);
    return true;
  },
  // Only canonical UTC ISO-8601 (what the codec and the rules produce); anything else takes the CAST path.
  TIMESTAMP: (a, v) => {
    if (typeof v !== 'string' || !ISO_UTC.test(v)) return false;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) return false;
    a.appendTimestamp(timestampValue(BigInt(ms) * 1000n));
    return true;
  },
  DATE: (a, v) => {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
    const ms = Date.parse(`${v}T00:00:00Z`);
    if (Number.isNaN(ms)) return false;
    a.appendDate(dateValue(ms / 86_400_000));
    return true;
  },
};
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

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
  return sqlParams(config, runDate, 'stream');
}
