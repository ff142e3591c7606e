import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { joinLakePath, type Lake, TABLES, type TableDef, type TableName } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import {
  DQ_STEP_FIELDS,
  DqResult,
  type FieldSpec,
  quoteIdent,
  RunStep,
  sqlEmptyRelationOf,
  sqlProjectionOf,
  sqlTypeOf,
} from '../schemas/index.ts';

/**
 * Partition columns of a table's files that are not record fields, name → DuckDB type
 * (quarantine's `step=` partition is also its `step` field: one column, not two).
 */
function partitionColumns(table: TableDef): Record<string, string> {
  const keys: [string, string][] = [
    ...(table.partitioned ? [['dt', 'DATE'] as [string, string]] : []),
    ...(table.subpartition ? [[table.subpartition, 'VARCHAR'] as [string, string]] : []),
  ];
  return Object.fromEntries(keys.filter(([name]) => !(name in table.record.fields)));
}

/**
 * The `SELECT` of a view over a lake table: every record column cast to its declared type (files
 * written by older schema versions may hold a wider type), then the partitions. Without files,
 * the empty relation of the same columns and types. `present`: the columns the files have, when
 * some record field is in none of them (a field newer than every partition): it reads as NULL.
 */
export function tableViewSql(table: TableDef, glob: string | null, present?: ReadonlySet<string>): string {
  const parts = partitionColumns(table);
  if (glob === null) return sqlEmptyRelationOf(table.record, 'duckdb', parts);
  const cols = [
    present
      ? Object.entries(table.record.fields)
          .map(([n, spec]) => typedColumn(n, spec, present.has(n)))
          .join(', ')
      : sqlProjectionOf(table.record, 'duckdb'),
    ...Object.entries(parts).map(([n, t]) => `CAST(${n} AS ${t}) AS ${n}`),
  ];
  return `SELECT ${cols.join(', ')} FROM ${parquetScan(table, glob)}`;
}

function parquetScan(table: TableDef, glob: string): string {
  return `read_parquet(${sqlString(glob)}, hive_partitioning = ${table.partitioned}, union_by_name = true)`;
}

async function columnsOf(conn: DuckDBConnection, relation: string): Promise<Map<string, string>> {
  const rows = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJS();
  return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

/**
 * One column at its declared type, from a relation that may lack it (JSON events written before
 * a field existed, or with a nullable field left out): absent columns are typed NULLs.
 */
function typedColumn(name: string, spec: FieldSpec, present: boolean, source = ''): string {
  const q = quoteIdent(name, 'duckdb');
  const type = sqlTypeOf(spec, 'duckdb');
  return present
    ? `CAST(${source ? `${source}.` : ''}${q} AS ${type}) AS ${q}`
    : `CAST(NULL AS ${type}) AS ${q}`;
}

/** Names of the fields of the STRUCT type DuckDB inferred, e.g. `STRUCT(outputs STRUCT(…), dq STRUCT(…)[])`. */
function structFields(type: string): Map<string, string> {
  const out = new Map<string, string>();
  const m = /^STRUCT\((.*)\)$/s.exec(type);
  if (!m) return out;
  const body = m[1] as string;
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' && depth === 0) || i === body.length) {
      const item = body.slice(start, i).trim();
      const sp = /^("(?:[^"]|"")+"|\S+)\s+(.*)$/s.exec(item);
      if (sp) out.set((sp[1] as string).replace(/^"(.*)"$/s, '$1').replaceAll('""', '"'), sp[2] as string);
      start = i + 1;
    }
  }
  return out;
}

/**
 * The `runs` and `dq_results` views over the ledger's JSON events: every RunStep column at its
 * declared type plus the step `detail` as written, and one DqResult row per check of a finished
 * step. The JSON is typed by inference, so the columns actually present are looked up first and
 * absent ones come back as typed NULLs. Without events, the empty relations of both records.
 */
async function ledgerViewsSql(conn: DuckDBConnection, runsGlob: string | null): Promise<[string, string]> {
  if (runsGlob === null)
    return [
      sqlEmptyRelationOf(RunStep, 'duckdb', { detail: 'JSON' }),
      sqlEmptyRelationOf(DqResult, 'duckdb'),
    ];
  const raw = `read_json(${sqlString(runsGlob)}, format = 'newline_delimited', union_by_name = true, hive_partitioning = false)`;
  const types = await columnsOf(conn, raw);
  const runs = `SELECT ${[
    ...Object.entries(RunStep.fields).map(([n, spec]) => typedColumn(n, spec, types.has(n))),
    types.has('detail') ? 'detail' : 'CAST(NULL AS JSON) AS detail',
  ].join(', ')} FROM ${raw}`;
  const dqType = structFields(types.get('detail') ?? '').get('dq') ?? '';
  const dqItem = /^STRUCT\(.*\)\[\]$/s.test(dqType) ? structFields(dqType.slice(0, -2)) : null;
  if (dqItem === null) return [runs, sqlEmptyRelationOf(DqResult, 'duckdb')];
  // run_id, run_date and step come from the (already typed) runs view, the rest from each check.
  const fromRuns = new Set<string>(DQ_STEP_FIELDS);
  const cols = Object.entries(DqResult.fields).map(([n, spec]) =>
    fromRuns.has(n) ? quoteIdent(n, 'duckdb') : typedColumn(n, spec, dqItem.has(n), 'd'),
  );
  const dq = `SELECT ${cols.join(', ')} FROM (SELECT run_id, run_date, step, unnest(detail.dq) AS d FROM runs WHERE status IN ('succeeded', 'failed') AND detail IS NOT NULL)`;
  return [runs, dq];
}

/**
 * Registers one view per lake table (deals, quarantine, enriched_deals, price_trends, features,
 * products, raw_deals) plus `runs` (the ledger) and `dq_results`. Every view has exactly the
 * columns of its schema record (plus partition keys; `runs` also the step `detail`) at their
 * declared types, with or without data, so queries never fail on a young lake and see the same
 * shape on an old one.
 */
export async function registerLakeViews(conn: DuckDBConnection, lake: Lake): Promise<string[]> {
  const views: string[] = [];
  for (const name of Object.keys(TABLES) as TableName[]) {
    const table: TableDef = TABLES[name];
    const dir = lake.tableDir(name);
    const glob = joinLakePath(
      dir,
      ...(table.partitioned ? (table.subpartition ? '*/*/*.parquet' : '*/*.parquet') : '*.parquet').split(
        '/',
      ),
    );
    const hasFiles = existsSync(dir) && (await globHasFiles(conn, glob));
    try {
      await conn.run(`CREATE OR REPLACE VIEW ${name} AS ${tableViewSql(table, hasFiles ? glob : null)}`);
    } catch (error) {
      if (!hasFiles) throw error;
      // A field no file has yet fails the bind; only then pay for reading the files' columns
      // (checking up front would read every footer once more on every query).
      const present = new Set((await columnsOf(conn, parquetScan(table, glob))).keys());
      await conn.run(`CREATE OR REPLACE VIEW ${name} AS ${tableViewSql(table, glob, present)}`);
    }
    views.push(name);
  }
  const runsGlob = path.join(lake.metaDir('runs'), '*', '*.json');
  const [runs, dq] = await ledgerViewsSql(conn, (await globHasFiles(conn, runsGlob)) ? runsGlob : null);
  await conn.run(`CREATE OR REPLACE VIEW runs AS ${runs}`);
  await conn.run(`CREATE OR REPLACE VIEW dq_results AS ${dq}`);
  views.push('runs', 'dq_results');
  return views;
}

async function globHasFiles(conn: DuckDBConnection, glob: string): Promise<boolean> {
  const r = await conn.runAndReadAll(`SELECT count(*) AS n FROM glob(${sqlString(glob)})`);
  return r.getRowObjectsJS()[0]?.n !== 0n;
}
