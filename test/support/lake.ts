import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Config, loadConfig } from '../../core/config.ts';
import { Lake } from '../../core/lake.ts';
import { sqlString } from '../../jobs/sql-text.ts';

export interface TempLake {
  readonly root: string;
  readonly lake: Lake;
  readonly config: Config;
  cleanup(): void;
}

/** A throwaway lake folder with the default config pointed at it. */
export function tempLake(prefix = 'dealfinder-test-'): TempLake {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const config = loadConfig({
    cwd: root,
    env: {},
    overrides: { lake: { root }, duckdb: { memoryLimit: '1GB', threads: 2 } },
  });
  return {
    root,
    lake: new Lake(root),
    config,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Runs a query over the given Parquet glob(s) with a private DuckDB and returns plain rows. */
export async function readRows(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

export const parquet = (glob: string) => `read_parquet(${sqlString(glob)}, hive_partitioning = true)`;
