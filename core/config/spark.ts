/** The local Spark engine (jobs/engines/spark.ts). */
import { z } from 'zod';

/** The Spark engine (jobs/engines/spark.ts): one long-lived spark-submit driver per engine. */
export const SparkSection = z
  .strictObject({
    /** spark-submit to launch; default $SPARK_SUBMIT, else `spark-submit` on PATH. */
    submit: z.string().min(1).optional(),
    /** Python of the driver and workers (PYSPARK_PYTHON); default $SPARK_PYTHON, else Spark's choice. */
    python: z.string().min(1).optional(),
    master: z.string().min(1).default('local[2]'),
    driverMemory: z
      .string()
      .regex(/^[0-9]+[kmgt]?$/i)
      .default('1g'),
    shufflePartitions: z.number().int().min(1).max(10_000).default(4),
    /** Extra `--conf k=v` for spark-submit. */
    conf: z.record(z.string(), z.string()).default({}),
    /** Launch until the driver answers (JVM + SparkSession). */
    startTimeoutMs: z.number().int().positive().default(180_000),
    /** Longest one job may run before the driver is stopped (the attempt is then retryable). */
    jobTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60_000),
  })
  .prefault({});
