/** Record-level rules of the migration: validation/quarantine, price parsing, vector helpers. */
import type {
  ProductVector,
  RecordOf,
  RowOf,
  VectorExport,
  VectorQuarantineCode,
  VectorQuarantineRecord,
} from '../schemas/index.ts';
import type { SpaceName } from './source/index.ts';

export type VectorQuarantineEntry = RecordOf<typeof VectorQuarantineRecord>;

/** One exported source record (a row of an export Parquet file): the schema's VectorExport. */
export type ExportRow = RowOf<typeof VectorExport>;

/**
 * One record ready for the target (a row of a transformed Parquet file / an OpenSearch
 * document): the schema's ProductVector, whatever the dimension.
 */
export type VectorRow = RowOf<typeof ProductVector>;

export interface RowContext {
  readonly migrationId: string;
  readonly source: string;
  readonly batch: number;
  readonly sourceRow: number;
  readonly dimension: number;
  readonly space: SpaceName;
}

/** "$1,299.99", "1299.99 USD", 12, "12" → number; anything else → null. */
export function parsePrice(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const s = value
    .trim()
    .replace(/^US\$|^\$|\s*USD$/i, '')
    .replaceAll(',', '')
    .trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)) return null;
  return Number(s);
}

export function isZeroVector(v: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) return false;
  return true;
}

export function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i] as number)) return i;
  return -1;
}

/** Bitwise equality of two float32 vectors (NaN payloads and -0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Chroma's distance for a space: squared L2, 1 − cosine similarity, 1 − inner product. */
export function distance(space: SpaceName, a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  if (space === 'l2') return l2;
  if (space === 'ip') return 1 - dot;
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb) || 1);
}

function preview(row: ExportRow): string {
  let metadata: unknown = row.metadata;
  try {
    metadata = JSON.parse(row.metadata);
  } catch {
    /* keep the text */
  }
  return JSON.stringify({
    id: row.id,
    document: row.document,
    metadata,
    dimension: row.embedding.length,
    embedding_head: Array.from(row.embedding.subarray(0, 8), (x) => (Number.isFinite(x) ? x : String(x))),
  });
}

export type RowOutcome = { ok: true; row: VectorRow } | { ok: false; quarantine: VectorQuarantineEntry };

/**
 * Validates one exported record against the target: id present and unique, dimension, finite
 * values, no zero vector under cosine (OpenSearch's cosinesimil rejects it), metadata present
 * with a category and a parseable positive price. The first failed rule decides the reason.
 */
export function validateRow(row: ExportRow, ctx: RowContext, seen: Set<string>): RowOutcome {
  const reject = (code: VectorQuarantineCode, message: string): RowOutcome => ({
    ok: false,
    quarantine: {
      migration_id: ctx.migrationId,
      phase: 'transform',
      source: ctx.source,
      batch: ctx.batch,
      source_row: ctx.sourceRow,
      record_id: row.id ?? '',
      error_code: code,
      message,
      original: preview(row),
    },
  });
  if (!row.id) return reject('missing_id', 'record has no id');
  if (seen.has(row.id)) return reject('duplicate_id', `id ${row.id} was already exported earlier`);
  seen.add(row.id);
  if (row.embedding.length !== ctx.dimension)
    return reject(
      'wrong_dimension',
      `embedding has ${row.embedding.length} values, the target expects ${ctx.dimension}`,
    );
  const bad = firstNonFinite(row.embedding);
  if (bad >= 0) return reject('non_finite_vector', `embedding value ${bad} is ${row.embedding[bad]}`);
  if (ctx.space === 'cosine' && isZeroVector(row.embedding))
    return reject(
      'zero_vector',
      'all-zero embedding: cosine similarity is undefined (cosinesimil rejects it)',
    );
  let metadata: unknown;
  try {
    metadata = JSON.parse(row.metadata);
  } catch {
    return reject('missing_metadata', 'metadata is not valid JSON');
  }
  if (
    !metadata ||
    typeof metadata !== 'object' ||
    Array.isArray(metadata) ||
    Object.keys(metadata).length === 0
  )
    return reject('missing_metadata', 'record has no metadata');
  const m = metadata as Record<string, unknown>;
  if (typeof m.category !== 'string' || m.category.trim() === '')
    return reject('missing_category', 'metadata has no category');
  if (m.price === undefined || m.price === null || m.price === '')
    return reject('missing_price', 'metadata has no price');
  const price = parsePrice(m.price);
  if (price === null) return reject('unparseable_price', `price ${JSON.stringify(m.price)} is not a number`);
  if (price <= 0) return reject('non_positive_price', `price ${price} is not positive`);
  return {
    ok: true,
    row: {
      id: row.id,
      document: row.document,
      category: m.category,
      price,
      metadata: row.metadata,
      embedding: row.embedding,
    },
  };
}
