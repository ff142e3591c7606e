/**
 * What the raw zone holds for one night, checked before anything runs: a missing or future
 * partition is an input error (exit 4, `--allow-empty` for an intentional empty night); a raw
 * Parquet file that cannot be opened (e.g. truncated) is left out of the inputs and recorded in
 * the quarantine table as one file-level record, so the night goes on; a file of another type
 * is reported, not silently ignored.
 *
 * The check is engine-independent (it runs here, before planning): DuckDB and local Spark get the
 * same readable files, so they cannot disagree about a bad file. An s3:// lake cannot be listed
 * from here: only the future-date check applies to it (see docs/nightly.md).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputMissingError } from '../core/errors.ts';
import { type Lake, TABLES } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { QuarantineRecord, sqlProjectionOf } from '../schemas/index.ts';

export interface UnreadableFile {
  /** Absolute path. */
  readonly file: string;
  /** `raw/deals/dt=D/<name>`: the same form as a row's `_source_file`. */
  readonly source: string;
  readonly bytes: number;
  readonly reason: string;
}

export interface RawInspection {
  readonly folder: string;
  readonly parquetFiles: readonly string[];
  readonly unreadable: readonly UnreadableFile[];
  /** Files that are not Parquet (e.g. a `.json` dropped in), relative like `source`. */
  readonly unknown: readonly string[];
}

/** The UTC calendar date of `now`. */
export function utcDate(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/**
 * Looks at the raw partition of `date`: throws InputMissingError for a date after today (UTC, per
 * `now`) always, and for a local partition without a readable Parquet file unless allowEmpty.
 */
export async function inspectRawInput(
  lake: Lake,
  date: string,
  options: { now: Date; allowEmpty?: boolean | undefined },
): Promise<RawInspection> {
  const folder = lake.partitionDir('raw_deals', date);
  const today = utcDate(options.now);
  if (date > today)
    throw new InputMissingError(
      `${date} is in the future (today is ${today} UTC): no raw deals can exist yet in ${folder}`,
      'run a date up to today; the default is yesterday (UTC)',
    );
  if (lake.remote) return { folder, parquetFiles: [], unreadable: [], unknown: [] };
  const names = existsSync(folder) ? readdirSync(folder).sort() : [];
  const rel = (name: string) => `${TABLES.raw_deals.path}/dt=${date}/${name}`;
  const visible = names.filter((n) => !n.startsWith('.') && !n.startsWith('_'));
  const parquet = visible.filter((n) => n.endsWith('.parquet'));
  const unknown = visible
    .filter((n) => !n.endsWith('.parquet') && statSync(path.join(folder, n)).isFile())
    .map(rel);
  const unreadable: UnreadableFile[] = [];
  if (parquet.length > 0) {
    const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
    const conn = await db.connect();
    try {
      for (const name of parquet) {
        const file = path.join(folder, name);
        try {
          // The footer holds the schema and the row groups: a truncated or foreign file fails here.
          await conn.run(`SELECT count(*) FROM parquet_metadata(${sqlString(file)})`);
        } catch (error) {
          // Named as in the lake (like _source_file), not by this machine's absolute path.
          const reason = ((error as Error).message.split('\n')[0] ?? 'unreadable')
            .replaceAll(file, rel(name))
            .slice(0, 500);
          unreadable.push({ file, source: rel(name), bytes: statSync(file).size, reason });
        }
      }
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }
  const readable = parquet
    .map((n) => path.join(folder, n))
    .filter((f) => !unreadable.some((u) => u.file === f));
  if (readable.length === 0 && unreadable.length === 0 && !options.allowEmpty)
    throw new InputMissingError(
      `no raw deals for ${date}: ${folder} ${existsSync(folder) ? 'has no .parquet file' : 'does not exist'}${unknown.length ? ` (only ${unknown.join(', ')})` : ''}`,
      'land the feeds for that date first (dealctl sample / ingest), or pass --allow-empty for an intentionally empty night',
    );
  return { folder, parquetFiles: readable, unreadable, unknown };
}

/** Error code of a raw file that could not be read at all (one record per file, not per row). */
export const UNREADABLE_FILE = 'unreadable_file';

/**
 * Writes one quarantine record per unreadable file to `file` (Parquet, the quarantine table's
 * columns and types), beside the job's own quarantine output in its staging folder.
 */
export async function writeUnreadableFileRecords(
  file: string,
  records: readonly UnreadableFile[],
  context: { runId: string; step: string },
): Promise<void> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
  const conn = await db.connect();
  try {
    const rows = records.map(
      (r) =>
        `(${[
          sqlString(context.runId),
          sqlString(context.step),
          sqlString(r.source),
          'NULL',
          'NULL',
          sqlString(UNREADABLE_FILE),
          sqlString(`raw file could not be read, none of its rows were processed: ${r.reason}`),
          sqlString(JSON.stringify({ file: r.source, bytes: r.bytes })),
        ].join(', ')})`,
    );
    const columns = Object.keys(QuarantineRecord.fields).join(', ');
    await conn.run(
      `COPY (SELECT ${sqlProjectionOf(QuarantineRecord, 'duckdb')} FROM (VALUES ${rows.join(', ')}) AS o(${columns})) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`,
    );
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
