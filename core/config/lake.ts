/** The lake layout and the embedded DuckDB (core/lake.ts, jobs/engines/duckdb.ts). */
import { z } from 'zod';

export const LakeSection = z
  .strictObject({
    /** Root of the data lake: a local folder (default) or, with the Spark/EMR engines, s3://bucket/prefix. */
    root: z.string().min(1).default('lake'),
    /** Local folder for the lake's metadata (run ledger) when root is s3:// (default ./.dealfinder/meta/s3/<bucket>/<prefix>). */
    metaRoot: z.string().min(1).optional(),
  })
  .prefault({});

export const DuckdbSection = z
  .strictObject({
    memoryLimit: z
      .string()
      .regex(/^[0-9.]+\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i)
      .default('2GB'),
    threads: z.number().int().min(1).max(256).default(2),
    /** Spill folder; defaults to <lake>/_tmp/duckdb. */
    tempDirectory: z.string().optional(),
  })
  .prefault({});
