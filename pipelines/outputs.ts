import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../jobs/sql-text.ts';

/** Quarantined rows per error code, read from the written Parquet files (engine-independent). */
export async function countByCode(files: readonly string[]): Promise<Record<string, number>> {
  if (files.length === 0) return {};
  const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT error_code, count(*) AS n FROM read_parquet([${files.map(sqlString).join(', ')}]) GROUP BY error_code ORDER BY error_code`,
    );
    return Object.fromEntries(reader.getRowObjectsJS().map((r) => [String(r.error_code), Number(r.n)]));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
