/** Spark on EMR (pipelines/emr) and the Glue Data Catalog (pipelines/glue). */
import { z } from 'zod';

/** Spark on EMR (pipelines/emr): a transient cluster per run, or steps on existingClusterId. */
export const EmrSection = z
  .strictObject({
    clusterName: z.string().min(1).max(256).default('deal-finder-nightly'),
    releaseLabel: z
      .string()
      .regex(/^emr-\d+\.\d+\.\d+$/)
      .default('emr-7.5.0'),
    /** Run the steps on this cluster (AddJobFlowSteps) instead of starting a transient one. */
    existingClusterId: z
      .string()
      .regex(/^j-[A-Z0-9]+$/)
      .optional(),
    masterInstanceTypes: z.array(z.string().min(1)).min(1).max(5).default(['m5.xlarge']),
    coreInstanceTypes: z.array(z.string().min(1)).min(1).max(5).default(['m5.xlarge', 'm5a.xlarge']),
    /** On-Demand capacity units of the core fleet (1 unit = 1 instance by default weight). */
    coreOnDemandCapacity: z.number().int().min(1).max(1000).default(2),
    taskInstanceTypes: z
      .array(z.string().min(1))
      .max(30)
      .default(['m5.2xlarge', 'm5a.2xlarge', 'm6i.2xlarge', 'r5.2xlarge']),
    /** Spot capacity units of the task fleet (0: no task fleet). */
    taskSpotCapacity: z.number().int().min(0).max(1000).default(4),
    /** Minutes to wait for Spot capacity before switching the task fleet to On-Demand. */
    spotTimeoutMinutes: z.number().int().min(5).max(1440).default(10),
    ebsVolumeGb: z.number().int().min(0).max(16_384).default(64),
    subnetIds: z.array(z.string().min(1)).default([]),
    serviceRole: z.string().min(1).default('EMR_DefaultRole'),
    jobFlowRole: z.string().min(1).default('EMR_EC2_DefaultRole'),
    /** Default: s3://<aws.bucket>/<aws.prefix>/emr-logs/ */
    logUri: z
      .string()
      .regex(/^s3:\/\/[^/]+\/.*$/)
      .optional(),
    /** A transient cluster terminates itself after this much idle time (safety net). */
    idleTimeoutSeconds: z.number().int().min(60).max(604_800).default(900),
    /**
     * client (default): the driver runs on the master node, so the step's stderr in S3 holds the
     * runner's own output and error (the failure tail dealctl shows); cluster: driver in YARN.
     */
    deployMode: z.enum(['cluster', 'client']).default('client'),
    /** Extra `--conf k=v` for spark-submit. */
    sparkConf: z.record(z.string(), z.string()).default({}),
    tags: z.record(z.string(), z.string()).default({ project: 'deal-finder' }),
    /** First interval between step polls; it grows ×1.5 per unchanged poll up to maxPollMs. */
    pollMs: z.number().int().min(0).default(15_000),
    maxPollMs: z.number().int().min(0).default(120_000),
    /** Overall deadline of a run's steps, from submission. */
    deadlineMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(180),
    /** Lines of a failed step's stderr to show. */
    stderrTailLines: z.number().int().min(1).max(10_000).default(60),
  })
  .prefault({});

/** Glue Data Catalog: one database, one table per lake table (pipelines/glue). */
export const GlueSection = z
  .strictObject({
    enabled: z.boolean().default(true),
    database: z
      .string()
      .regex(/^[a-z0-9_]{1,255}$/, 'lower-case letters, digits and _')
      .default('deal_finder'),
    /** Account id of the catalog; default: the caller's. */
    catalogId: z.string().optional(),
  })
  .prefault({});
