/**
 * Batch files of the migration, written and read with DuckDB. Their columns are derived from the
 * schema records (VectorExport for export/, ProductVector for transformed/) with
 * sqlColumnListOf(…, { vectors: 'f32le' }): embeddings are stored as BLOB of little-endian
 * float32 ("embedding_f32le"): bit-exact, compact, and ~10× faster to write from Node than a
 * FLOAT[] list column. In DuckDB a row's vector is recoverable as `embedding_f32le` bytes; in
 * Spark/pyarrow as numpy.frombuffer(b, '<f4'). No NOT NULL: an export holds records before any
 * rule is checked (transform quarantines them with a reason instead).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
} from '@duckdb/node-api';
import { sqlString as sq } from '../core/sql.ts';
import {
  ProductVector,
  type RecordDef,
  type RowOf,
  type SqlColumn,
  sqlColumnListOf,
  sqlDdlOf,
  VectorExport,
} from '../schemas/index.ts';
import type { ExportRow, VectorRow } from './records.ts';

function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function floatsOf(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength >> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

type Append = (app: DuckDBAppender, value: unknown) => void;
type Read = (value: DuckDBValue) => unknown;

/** How one stored column goes into the appender and comes back out of a query row. */
function codecOf(c: SqlColumn): { append: Append; read: Read } {
  const nullable =
    (append: Append): Append =>
    (app, v) =>
      v === null || v === undefined ? app.appendNull() : append(app, v);
  switch (c.spec.kind) {
    case 'string':
      return { append: nullable((a, v) => a.appendVarchar(v as string)), read: (v) => v ?? null };
    case 'int32':
      return { append: nullable((a, v) => a.appendInteger(v as number)), read: (v) => v ?? null };
    case 'int64':
      return {
        append: nullable((a, v) => a.appendBigInt(BigInt(v as number))),
        read: (v) => (v === null ? null : Number(v as bigint)),
      };
    case 'float64':
      return { append: nullable((a, v) => a.appendDouble(v as number)), read: (v) => v ?? null };
    case 'boolean':
      return { append: nullable((a, v) => a.appendBoolean(v as boolean)), read: (v) => v ?? null };
    case 'vector':
      return {
        append: nullable((a, v) => a.appendBlob(bytesOf(v as Float32Array))),
        read: (v) => (v === null ? null : floatsOf((v as { bytes: Uint8Array }).bytes)),
      };
    case 'timestamp':
    case 'date':
      // Batch files hold vector-store records, which have neither; a record that does needs the
      // ISO-text ↔ DuckDB conversion added here first.
      throw new Error(`batch files do not store ${c.spec.kind} columns (${c.field})`);
  }
}

const LAYOUT = { vectors: 'f32le', notNull: false } as const;

/** The batch-file layout of a record: its columns, DDL and per-column codecs, derived once. */
class Layout<D extends RecordDef> {
  readonly columns: (SqlColumn & { append: Append; read: Read })[];
  constructor(readonly def: D) {
    this.columns = sqlColumnListOf(def, 'duckdb', LAYOUT).map((c) => ({
      ...c,
      ...codecOf(c),
    }));
  }
  ddl(table: string): string {
    return sqlDdlOf(this.def, 'duckdb', table, { ...LAYOUT, temporary: true });
  }
  select(file: string): string {
    return `SELECT ${this.columns.map((c) => c.name).join(', ')} FROM read_parquet(${sq(file)})`;
  }
}

const EXPORT = new Layout(VectorExport);
// The column layout does not depend on the dimension: any productVectorDef(n) has the same one.
const VECTORS = new Layout(ProductVector);

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** One DuckDB connection for a phase: writes batch files atomically (tmp + rename) and reads them. */
export class BatchFiles {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly con: DuckDBConnection,
  ) {}

  static async open(): Promise<BatchFiles> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    return new BatchFiles(instance, await instance.connect());
  }

  private async copyOut(table: string, file: string): Promise<void> {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    await this.con.run(
      `COPY ${table} TO ${sq(tmp)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 100000)`,
    );
    renameSync(tmp, file);
  }

  private async writeRows<D extends RecordDef>(
    layout: Layout<D>,
    table: string,
    file: string,
    rows: readonly RowOf<D>[],
  ): Promise<void> {
    await this.con.run(layout.ddl(table));
    const app = await this.con.createAppender(table);
    const cols = layout.columns;
    for (const r of rows) {
      const row = r as Record<string, unknown>;
      for (const c of cols) c.append(app, row[c.field]);
      app.endRow();
    }
    app.closeSync();
    await this.copyOut(table, file);
  }

  private async readRows<D extends RecordDef>(layout: Layout<D>, file: string): Promise<RowOf<D>[]> {
    const r = await this.con.runAndReadAll(layout.select(file));
    const cols = layout.columns;
    return r.getRows().map((row) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < cols.length; i++) {
        const c = cols[i] as (typeof cols)[number];
        out[c.field] = c.read(row[i] ?? null);
      }
      return out as RowOf<D>;
    });
  }

  writeExport(file: string, rows: readonly ExportRow[]): Promise<void> {
    return this.writeRows(EXPORT, '_export', file, rows);
  }

  readExport(file: string): Promise<ExportRow[]> {
    return this.readRows(EXPORT, file);
  }

  writeVectors(file: string, rows: readonly VectorRow[]): Promise<void> {
    return this.writeRows(VECTORS, '_vectors', file, rows);
  }

  readVectors(file: string): Promise<VectorRow[]> {
    return this.readRows(VECTORS, file);
  }

  async readIds(file: string): Promise<string[]> {
    const r = await this.con.runAndReadAll(`SELECT id FROM read_parquet(${sq(file)})`);
    return r.getRows().map((row) => row[0] as string);
  }

  async countRows(file: string): Promise<number> {
    if (!existsSync(file)) return -1;
    const r = await this.con.runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet(${sq(file)})`);
    return r.getRows()[0]?.[0] as number;
  }

  close(): void {
    this.con.closeSync();
    this.instance.closeSync();
  }
}
