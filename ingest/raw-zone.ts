import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Lake } from '../core/lake.ts';
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
