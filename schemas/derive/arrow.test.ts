import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type DataType, Type } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordDef } from '../field.ts';
import { RECORDS } from '../records.ts';
import { STREAM_RECORDS } from '../streaming.ts';
import { ProductVector, VectorQuarantineRecord } from '../vectors.ts';
import { arrowSchemaOf } from './arrow.ts';
import { sqlProjectionOf } from './sql.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'arrow-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The Parquet physical and logical type a column of this Arrow type has. */
function parquetOf(t: DataType): string {
  switch (t.typeId) {
    case Type.Utf8:
      return 'BYTE_ARRAY/UTF8';
    case Type.Int:
      return (t as unknown as { bitWidth: number }).bitWidth === 64 ? 'INT64/INT_64' : 'INT32/INT_32';
    case Type.Float:
      return 'DOUBLE/';
    case Type.Bool:
      return 'BOOLEAN/';
    case Type.Timestamp:
      return 'INT64/TIMESTAMP_MICROS';
    case Type.Date:
      return 'INT32/DATE';
    default:
      return `unmapped ${String(t)}`;
  }
}

describe('Arrow schema and SQL projection agree', () => {
  it('the Parquet file a job writes through the projection has the Arrow schema’s columns and types', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      const defs: RecordDef[] = [
        ...new Set<RecordDef>([
          ...Object.values(RECORDS),
          ...Object.values(STREAM_RECORDS),
          VectorQuarantineRecord,
        ]),
      ];
      for (const def of defs) {
        const file = path.join(dir, `${def.name}.parquet`);
        const nulls = Object.keys(def.fields).map((n) => `NULL AS "${n}"`);
        await conn.run(
          `COPY (SELECT ${sqlProjectionOf(def, 'duckdb', 'r')} FROM (SELECT ${nulls.join(', ')}) r) TO '${file}' (FORMAT parquet)`,
        );
        const written = (
          await conn.runAndReadAll(
            `SELECT name, type, converted_type FROM parquet_schema('${file}') WHERE name <> 'duckdb_schema'`,
          )
        ).getRowObjectsJS();
        const actual = written.map((r) => [String(r.name), `${r.type}/${r.converted_type ?? ''}`]);
        const want = arrowSchemaOf(def).fields.map((f) => [f.name, parquetOf(f.type)]);
        expect(actual, def.name).toEqual(want);
      }
      // Vectors: a fixed-size float list in Arrow, FLOAT[n] in SQL.
      expect(String(arrowSchemaOf(ProductVector).fields.at(-1)?.type)).toBe('FixedSizeList[384]<Float32>');
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});
