/**
 * `dealctl query` is read-only analytics: DuckDB's file access is locked to the lake (and the
 * CLI's own output file), its configuration is locked, and only one SELECT (or EXPLAIN of one)
 * runs. COPY, ATTACH, INSTALL, LOAD, SET, PRAGMA, CREATE, … are refused before they run, and a
 * table function over a path outside the lake fails with DuckDB's permission error.
 */
import { existsSync } from 'node:fs';
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DOUBLE,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
  dateValue,
  StatementType,
  VARCHAR,
} from '@duckdb/node-api';
import { InputMissingError, UsageError } from '../core/errors.ts';
import type { Lake } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import type { QueryParam } from './options.ts';

/** A local lake root must exist: a typo in --lake is missing input, not a new empty lake. */
export function assertLakeExists(lake: Lake): void {
  if (lake.remote || existsSync(lake.root)) return;
  throw new InputMissingError(
    `no lake at ${lake.root}`,
    'give --lake the folder of an existing lake (or lake.root in the config); `dealctl sample` or `dealctl nightly --sample` creates one',
  );
}

/**
 * Locks the connection's database: files only under `directories` (plus the exact `files`),
 * no extension installs or loads, and no configuration change after this call.
 */
export async function lockToLake(
  conn: DuckDBConnection,
  allowed: { directories: readonly string[]; files: readonly string[] },
): Promise<void> {
  const list = (xs: readonly string[]) => `[${[...new Set(xs)].map(sqlString).join(', ')}]`;
  await conn.run(`SET allowed_directories = ${list(allowed.directories)}`);
  await conn.run(`SET allowed_paths = ${list(allowed.files)}`);
  await conn.run('SET enable_external_access = false');
  await conn.run('SET autoinstall_known_extensions = false');
  await conn.run('SET autoload_known_extensions = false');
  await conn.run('SET lock_configuration = true');
}

const READ_ONLY = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);
const EXPLAIN = /^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?/i;
/** How read-only statements begin (SELECT and its DuckDB shorthands). */
const READ_FORMS =
  /^[\s(]*(?:SELECT|WITH|FROM|VALUES|TABLE|EXPLAIN|DESCRIBE|SHOW|SUMMARIZE|PIVOT|UNPIVOT)\b/i;

/** Prepares `sql` if it is one read-only statement; anything else is a usage error (exit 2). */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  const statements = await conn.extractStatements(sql);
  if (statements.count !== 1)
    throw new UsageError(
      `dealctl query runs one statement, got ${statements.count}`,
      'run each query on its own',
    );
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await statements.prepare(0);
  } catch (error) {
    // Binding a write to a path outside the lake already fails on the lock: say why in our words.
    if (!READ_FORMS.test(sql)) refuseWrites(StatementType.INVALID, sql);
    throw error;
  }
  refuseWrites(prepared.statementType, sql);
  // EXPLAIN ANALYZE runs the statement it explains: that one must be read-only too.
  const inner = EXPLAIN.exec(sql);
  if (prepared.statementType === StatementType.EXPLAIN && inner) {
    const explained = sql.slice(inner[0].length);
    refuseWrites((await (await conn.extractStatements(explained)).prepare(0)).statementType, explained);
  }
  return prepared;
}

function refuseWrites(type: StatementType, sql: string): void {
  if (READ_ONLY.has(type)) return;
  // The statement's own keyword (DuckDB types INSTALL as LOAD, PRAGMA as SELECT or PRAGMA).
  const keyword = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? StatementType[type];
  throw new UsageError(
    `dealctl query is read-only: ${keyword} is not allowed, only SELECT`,
    'write results with --out FILE (--format csv|json|parquet); lake tables are written by the pipeline',
  );
}

const SQL_TYPES: Record<NonNullable<QueryParam['type']>, DuckDBType> = {
  int: BIGINT,
  double: DOUBLE,
  string: VARCHAR,
  date: DATE,
  bool: BOOLEAN,
};

/** Binds `--param`s by name, each with its declared SQL type (so `$d + 1` works on a date). */
export function bindParams(prepared: DuckDBPreparedStatement, params: Record<string, QueryParam>): void {
  const names = Object.keys(params);
  if (names.length === 0) return;
  const values = Object.fromEntries(names.map((n) => [n, sqlValue(params[n])]));
  const types = Object.fromEntries(
    names.map((n) => {
      const t = params[n]?.type;
      return [n, t ? SQL_TYPES[t] : undefined];
    }),
  );
  prepared.bind(values, types);
}

function sqlValue(p: QueryParam | undefined): DuckDBValue {
  if (!p) return null;
  if (p.type === 'int') return BigInt(p.value as number);
  if (p.type === 'date') {
    const [year, month, day] = String(p.value).split('-').map(Number);
    return dateValue({ year: year ?? 0, month: month ?? 0, day: day ?? 0 });
  }
  return p.value;
}
