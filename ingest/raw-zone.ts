import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Lake } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import {
  quoteIdent,
  RawDeal,
  type RawDealRecord,
  type RecordDef,
  type RecordOf,
  sqlTypeOf,
  validate,
} from '../schemas/index.ts';

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
  await writeRecordsParquet(conn, RawDeal, records, file);
}

/**
 * Writes records of `def` to one Parquet file with exactly the record's columns, typed from the
 * schema (through a JSON-lines file beside it, read with those types). `orderBy` sorts the rows;
 * without it they keep the connection's insertion-order setting.
 */
export async function writeRecordsParquet<D extends RecordDef>(
  conn: DuckDBConnection,
  def: D,
  records: readonly RecordOf<D>[],
  file: string,
  orderBy?: keyof D['fields'] & string,
): Promise<void> {
  const tmpJson = path.join(path.dirname(file), `.${path.basename(file)}.jsonl.tmp`);
  writeFileSync(tmpJson, records.map((r) => JSON.stringify(r)).join('\n'));
  const columns = Object.entries(def.fields).map(
    ([n, s]) => `${sqlString(n)}: ${sqlString(sqlTypeOf(s, 'duckdb'))}`,
  );
  const order = orderBy ? ` ORDER BY ${quoteIdent(orderBy, 'duckdb')}` : '';
  try {
    await conn.run(
      `COPY (SELECT * FROM read_json(${sqlString(tmpJson)}, format = 'newline_delimited', columns = {${columns.join(', ')}})${order}) TO ${sqlString(file)} (FORMAT parquet)`,
    );
  } finally {
    rmSync(tmpJson, { force: true });
  }
}
