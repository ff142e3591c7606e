/**
 * The ChromaDB → OpenSearch migration (migration/, `dealctl migrate`; docs/runbooks/migration.md).
 * Flags of `dealctl migrate` override these; the identity of a migration (source, target, alias,
 * index settings) is recorded in its state directory at the first phase and kept from then on.
 */
import { z } from 'zod';
import { PRODUCT_VECTOR_DIMENSION } from '../../schemas/vectors.ts';

export const MigrationSection = z
  .strictObject({
    /** Chroma server URL (HTTP API v2) or PersistentClient directory. */
    source: z.string().min(1).optional(),
    collection: z.string().min(1).default('products'),
    tenant: z.string().min(1).default('default_tenant'),
    database: z.string().min(1).default('default_database'),
    /** Python with chromadb for a directory source; default $DEALFINDER_CHROMA_PYTHON, $CHROMA_PYTHON, python3. */
    python: z.string().min(1).optional(),
    /** OpenSearch URL. */
    target: z.url().optional(),
    /** Alias the readers use; the index is <alias>-v<n>. */
    alias: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'a lower-case OpenSearch alias')
      .default('products'),
    /** State directory of the migration (`--state`); default <lake>/_migrations/<alias>. */
    state: z.string().min(1).optional(),
    engine: z.enum(['lucene', 'faiss', 'nmslib']).default('lucene'),
    shards: z.number().int().min(1).max(1024).default(1),
    /** Replicas and refresh interval restored after the load. */
    replicas: z.number().int().min(0).max(16).default(1),
    refreshInterval: z.string().min(1).default('1s'),
    bulkFormat: z.enum(['smile', 'json']).default('smile'),
    /** Records per export batch / Parquet file. */
    batchSize: z.number().int().min(1).max(10_000).default(1000),
    /** Keep export/transform files in S3 (s3://bucket/prefix) instead of the state directory. */
    staging: z
      .string()
      .regex(/^s3a?:\/\/[^/]+/, 'an s3://bucket/prefix URI')
      .optional(),
    /** Expected embedding dimension (others are refused); "any" accepts the source's. */
    dimension: z
      .union([z.number().int().min(1).max(16_000), z.literal('any')])
      .default(PRODUCT_VECTOR_DIMENSION),
    /** Bulk requests in flight at most (the loader lowers it on 429/5xx and raises it back). */
    concurrency: z.number().int().min(1).max(64).default(2),
    /** Source reads in flight (directory sources: chromadb reader processes; 2 fits two cores). */
    readers: z.number().int().min(1).max(8).default(2),
    /** Retries of one OpenSearch request (429, 5xx, network errors), exponential backoff. */
    retry: z
      .strictObject({
        retries: z.number().int().min(0).max(20).default(5),
        minDelayMs: z.number().int().min(0).default(200),
        maxDelayMs: z.number().int().min(0).default(10_000),
      })
      .prefault({}),
    /** Verify: required mean recall@k, probe queries, k, ef_search, records compared field by field. */
    recallMin: z.number().min(0).max(1).default(0.95),
    probes: z.number().int().min(1).default(50),
    k: z.number().int().min(1).max(1000).default(10),
    efSearch: z.number().int().min(1).default(100),
    sampleSize: z.number().int().min(0).default(200),
    /** Transform gate. */
    maxQuarantineRate: z.number().min(0).max(1).default(0.05),
    /** Shadow: queries and seconds at most. */
    shadowQueries: z.number().int().min(1).default(100),
    shadowSeconds: z.number().positive().default(60),
    /** Cleanup: minimum age of the cutover before the old index may be deleted. */
    minAgeHours: z.number().min(0).default(168),
    /** The vector-store flag file cutover/rollback write; default <state>/vector-store.json. */
    flagFile: z.string().min(1).optional(),
    /** Seed of the verify sample and probes. */
    seed: z.number().int().default(42),
  })
  .prefault({});

export type MigrationConfig = z.infer<typeof MigrationSection>;

/** The section's defaults (what an empty config gives). */
export const MIGRATION_DEFAULTS: MigrationConfig = MigrationSection.parse({});
