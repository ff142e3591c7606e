import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Lake } from '../core/lake.ts';
import { parseFeed } from '../core/rss.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { RawDeal, type RawDealRecord, sqlTypeOf, validate } from '../schemas/index.ts';

/**
 * Lands raw deals in the raw zone of `date` as one Parquet file named after the source, written
 * aside and renamed in (re-landing the same source replaces its file, never duplicates it).
 */
export async function landRawDeals(
  conn: DuckDBConnection,
  lake: Lake,
  date: string,
  source: string,
  records: RawDealRecord[],
): Promise<string> {
  const dir = lake.partitionDir('raw_deals', date);
  mkdirSync(dir, { recursive: true });
  const tmpParquet = path.join(dir, `.${source}.parquet.tmp`);
  await writeRawDeals(conn, tmpParquet, records);
  const final = path.join(dir, `${source}.parquet`);
  renameSync(tmpParquet, final);
  return final;
}

/** Writes raw deals (validated against RawDeal) to one Parquet file with the RawDeal columns. */
export async function writeRawDeals(
  conn: DuckDBConnection,
  file: string,
  records: RawDealRecord[],
): Promise<void> {
  for (const r of records) {
    const v = validate(RawDeal, r);
    if (!v.ok)
      throw new Error(
        `raw deal ${r.raw_id} does not match the RawDeal schema: ${v.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      );
  }
  const tmpJson = path.join(path.dirname(file), `.${path.basename(file)}.jsonl.tmp`);
  writeFileSync(tmpJson, records.map((r) => JSON.stringify(r)).join('\n'));
  const columns = Object.entries(RawDeal.fields).map(
    ([n, s]) => `${sqlString(n)}: ${sqlString(sqlTypeOf(s, 'duckdb'))}`,
  );
  try {
    await conn.run(
      `COPY (SELECT * FROM read_json(${sqlString(tmpJson)}, format = 'newline_delimited', columns = {${columns.join(', ')}})) TO ${sqlString(file)} (FORMAT parquet)`,
    );
  } finally {
    rmSync(tmpJson, { force: true });
  }
}

/**
 * Reads a bundled RSS file and rebases its item times so the newest publication falls at noon of
 * `date` (keeping the offsets between items), so the sample feed is always "yesterday's".
 */
export function sampleFeedRecords(
  file: string,
  date: string,
  feed: string,
  categoryHint: string,
): RawDealRecord[] {
  const xml = readFileSync(file, 'utf8');
  const noon = Date.parse(`${date}T12:00:00Z`);
  const parsed = parseFeed(xml, feed, new Date(noon), categoryHint).entries;
  const newest = Math.max(...parsed.map((e) => (e.published_at ? Date.parse(e.published_at) : 0)));
  const shift = noon - newest;
  const move = (ts: string | null) => (ts ? new Date(Date.parse(ts) + shift).toISOString() : null);
  return parsed.map((e, i) => ({
    ...e,
    published_at: move(e.published_at),
    expires_at: move(e.expires_at),
    seen_at: new Date(noon + 60_000 * (i + 1)).toISOString(),
  }));
}
