import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ProductVector, type RecordDef, sqlColumnListOf, VectorExport } from '../schemas/index.ts';
import { BatchFiles } from './parquet.ts';
import type { ExportRow, VectorRow } from './records.ts';
import { sameBits } from './records.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'batch-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Vectors with the values a naive copy would lose: -0, a NaN with a payload, ±Infinity, subnormals. */
function awkward(n: number, i: number): Float32Array {
  const v = Float32Array.from({ length: n }, (_, j) => Math.sin(i * 31 + j) * 10 ** ((j % 9) - 4));
  const bits = new Uint32Array(v.buffer);
  bits[0] = 0x80000000; // -0
  bits[1] = 0x7fc0beef; // NaN with a payload
  bits[2] = 0x00000001; // smallest subnormal
  v[3] = Number.POSITIVE_INFINITY;
  return v;
}

async function describeFile(file: string): Promise<[string, string][]> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`);
    return r.getRowObjectsJS().map((row) => [String(row.column_name), String(row.column_type)]);
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

const stored = (def: RecordDef) =>
  sqlColumnListOf(def, 'duckdb', { vectors: 'f32le', notNull: false }).map((c) => [c.name, c.type]);

describe('migration batch files (layout derived from schemas/)', () => {
  const exported: ExportRow[] = Array.from({ length: 50 }, (_, i) => {
    const embedding = awkward(i === 7 ? 5 : 16, i);
    return {
      id: i === 3 ? '' : `doc_${i}`,
      document: i % 2 ? null : `Produkt ${i} – größer`,
      metadata: JSON.stringify({ category: 'Toys', price: i + 0.5 }),
      dimension: embedding.length,
      embedding,
    };
  });
  const vectors: VectorRow[] = exported.map((r) => ({
    id: r.id,
    document: r.document,
    category: 'Toys',
    price: r.dimension + 0.25,
    metadata: r.metadata,
    embedding: r.embedding,
  }));

  it('writes export files with exactly the VectorExport columns and reads them back bit-exact', async () => {
    const files = await BatchFiles.open();
    const file = path.join(dir, 'export.parquet');
    try {
      await files.writeExport(file, exported);
      expect(await describeFile(file)).toEqual(stored(VectorExport));
      expect(stored(VectorExport)).toEqual([
        ['id', 'VARCHAR'],
        ['document', 'VARCHAR'],
        ['metadata', 'VARCHAR'],
        ['dimension', 'INTEGER'],
        ['embedding_f32le', 'BLOB'],
      ]);
      const back = await files.readExport(file);
      expect(back.map((r) => ({ ...r, embedding: null }))).toEqual(
        exported.map((r) => ({ ...r, embedding: null })),
      );
      expect(back.filter((r, i) => !sameBits(r.embedding, exported[i]!.embedding))).toEqual([]);
      expect(await files.readIds(file)).toEqual(exported.map((r) => r.id));
    } finally {
      files.close();
    }
  });

  it('writes transformed files with exactly the ProductVector columns and reads them back bit-exact', async () => {
    const files = await BatchFiles.open();
    const file = path.join(dir, 'vectors.parquet');
    try {
      await files.writeVectors(file, vectors);
      expect(await describeFile(file)).toEqual(stored(ProductVector));
      expect(stored(ProductVector).map(([n]) => n)).toEqual([
        ...Object.keys(ProductVector.fields).filter((n) => n !== 'embedding'),
        'embedding_f32le',
      ]);
      const back = await files.readVectors(file);
      expect(back.map((r) => ({ ...r, embedding: null }))).toEqual(
        vectors.map((r) => ({ ...r, embedding: null })),
      );
      expect(back.filter((r, i) => !sameBits(r.embedding, vectors[i]!.embedding))).toEqual([]);
      expect(await files.countRows(file)).toBe(vectors.length);
    } finally {
      files.close();
    }
  });
});
