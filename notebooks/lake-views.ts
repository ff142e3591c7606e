import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { joinLakePath, type Lake, TABLES, type TableDef, type TableName } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { sqlTypeOf } from '../schemas/index.ts';

/**
 * Registers one view per lake table (deals, quarantine, enriched_deals, price_trends, features,
 * products, raw_deals) plus `runs` (the ledger) and `dq_results`. Tables without data yet get an
 * empty view with their declared columns, so queries never fail on a young lake.
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
    const cols = Object.entries(table.record.fields).map(
      ([n, s]) => `CAST(${n} AS ${sqlTypeOf(s, 'duckdb')}) AS ${n}`,
    );
    const parts = table.partitioned
      ? [
          'CAST(dt AS DATE) AS dt',
          ...(table.subpartition ? [`CAST(${table.subpartition} AS VARCHAR) AS ${table.subpartition}`] : []),
        ]
      : [];
    const hasFiles =
      existsSync(dir) &&
      (await conn.runAndReadAll(`SELECT count(*) AS n FROM glob(${sqlString(glob)})`)).getRowObjectsJS()[0]
        ?.n !== 0n;
    const body = hasFiles
      ? `SELECT ${[...cols, ...parts].join(', ')} FROM read_parquet(${sqlString(glob)}, hive_partitioning = ${table.partitioned}, union_by_name = true)`
      : `SELECT ${[...Object.entries(table.record.fields).map(([n, s]) => `CAST(NULL AS ${sqlTypeOf(s, 'duckdb')}) AS ${n}`), ...(table.partitioned ? ['CAST(NULL AS DATE) AS dt'] : []), ...(table.subpartition ? [`CAST(NULL AS VARCHAR) AS ${table.subpartition}`] : [])].join(', ')} WHERE 1 = 0`;
    await conn.run(`CREATE OR REPLACE VIEW ${name} AS ${body}`);
    views.push(name);
  }
  const runsGlob = path.join(lake.metaDir('runs'), '*', '*.json');
  const hasRuns =
    (await conn.runAndReadAll(`SELECT count(*) AS n FROM glob(${sqlString(runsGlob)})`)).getRowObjectsJS()[0]
      ?.n !== 0n;
  if (hasRuns) {
    await conn.run(
      `CREATE OR REPLACE VIEW runs AS SELECT * EXCLUDE (detail), detail FROM read_json(${sqlString(runsGlob)}, format = 'newline_delimited', union_by_name = true, hive_partitioning = false)`,
    );
    await conn.run(
      `CREATE OR REPLACE VIEW dq_results AS SELECT run_id, run_date, step, d.output, d."check", d.status, d.value, d.threshold, d.message FROM (SELECT run_id, run_date, step, unnest(detail.dq) AS d FROM runs WHERE status IN ('succeeded', 'failed') AND detail IS NOT NULL)`,
    );
  } else {
    await conn.run(
      'CREATE OR REPLACE VIEW runs AS SELECT CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS DATE) AS run_date, CAST(NULL AS VARCHAR) AS engine, CAST(NULL AS VARCHAR) AS step, CAST(NULL AS VARCHAR) AS status WHERE 1 = 0',
    );
    await conn.run(
      'CREATE OR REPLACE VIEW dq_results AS SELECT CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS VARCHAR) AS step, CAST(NULL AS VARCHAR) AS "check", CAST(NULL AS VARCHAR) AS status WHERE 1 = 0',
    );
  }
  views.push('runs', 'dq_results');
  return views;
}
