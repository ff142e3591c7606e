import { defineRecord, field, type RecordDef } from './field.ts';

/** Dimension of the prototype's embeddings (all-MiniLM-L6-v2). */
export const PRODUCT_VECTOR_DIMENSION = 384;

/**
 * Stable reasons a vector record is kept out of the target during a vector-store migration.
 * Codes never change meaning; new ones are appended. Documented in docs/runbooks/migration.md.
 */
export const VECTOR_QUARANTINE_CODES = [
  'wrong_dimension',
  'non_finite_vector',
  'zero_vector',
  'missing_id',
  'duplicate_id',
  'missing_metadata',
  'missing_category',
  'missing_price',
  'unparseable_price',
  'non_positive_price',
] as const;
export type VectorQuarantineCode = (typeof VECTOR_QUARANTINE_CODES)[number];

const productVectorFields = (dimension: number) => ({
  id: field.string('Document id, preserved from the source store (Chroma id), also the OpenSearch _id.'),
  document: field.string('Product description the embedding was computed from.', { text: true }).nullable_(),
  category: field.string('Product category (source metadata "category").'),
  price: field.float64('Reference price in USD (source metadata "price").', { gtZero: true }),
  metadata: field.string('All source metadata as JSON text, exactly as read (types preserved).'),
  embedding: field.vector('Embedding, float32, copied bit-exact from the source.', { dimension }),
});

/** The product vector document of a given dimension (the OpenSearch k-NN document). */
export function productVectorDef(dimension: number): RecordDef<ReturnType<typeof productVectorFields>> {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 16_000)
    throw new Error(`product vector dimension ${dimension} is out of range 1..16000`);
  return defineRecord({
    name: 'product_vectors',
    description: 'Product embeddings with their description and metadata: the k-NN index of the catalog.',
    key: ['id'],
    fields: productVectorFields(dimension),
  });
}

/** The product vector document at the prototype's dimension (384). */
export const ProductVector = productVectorDef(PRODUCT_VECTOR_DIMENSION);

/**
 * A source record as the vector migration exported it (a row of `export/part-NNNNNN.parquet`),
 * before any rule is checked: the embedding has whatever length the source gave it, and
 * category and price are still inside the metadata. The transform turns it into a ProductVector
 * row or a VectorQuarantineRecord.
 */
export const VectorExport = defineRecord({
  name: 'vector_exports',
  description: 'Vector-store records exactly as read from the source, one Parquet file per export batch.',
  key: ['id'],
  fields: {
    id: field.string('Document id in the source store (Chroma id).'),
    document: field.string('Document text stored with the embedding.').nullable_(),
    metadata: field.string(
      'Source metadata as JSON text, exactly as read ("null" when the record had none).',
    ),
    dimension: field.int32('Number of values of the embedding as read (transform checks it).', { min: 0 }),
    embedding: field.vector('Embedding, float32, copied bit-exact from the source; any length.'),
  },
});

/** A source record the vector migration refused, kept with the reason instead of being dropped. */
export const VectorQuarantineRecord = defineRecord({
  name: 'vector_quarantine',
  description: 'Vector-store records rejected by the migration transform, with a stable reason code.',
  key: ['migration_id', 'record_id', 'error_code'],
  fields: {
    migration_id: field.string('Migration (state directory) that quarantined the record.'),
    phase: field.string('Phase that rejected it.', { oneOf: ['transform'] }),
    source: field.string('Source collection (and store) the record came from.'),
    batch: field.int32('Export batch number (1-based).', { min: 1 }),
    source_row: field.int64('Row within the export batch (0-based).', { min: 0 }),
    record_id: field.string('Id of the record ("" when it has none).'),
    error_code: field.string('Stable reason code.', { oneOf: VECTOR_QUARANTINE_CODES }),
    message: field.string('What was wrong, for humans.'),
    original: field.string(
      'The original record as JSON: id, document, metadata, dimension and the first 8 vector values.',
    ),
  },
});
