import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

const Severity = z.enum(['fail', 'warn']);

/** The one typed configuration of the platform. Every field has a safe default for the embedded mode. */
export const ConfigSchema = z.strictObject({
  lake: z
    .strictObject({
      /** Root of the data lake: a local folder (default) or, with the Spark/EMR engines, s3://bucket/prefix. */
      root: z.string().min(1).default('lake'),
      /** Local folder for the lake's metadata (run ledger) when root is s3:// (default ./.dealfinder/meta/s3/<bucket>/<prefix>). */
      metaRoot: z.string().min(1).optional(),
    })
    .prefault({}),
  duckdb: z
    .strictObject({
      memoryLimit: z
        .string()
        .regex(/^[0-9.]+\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i)
        .default('2GB'),
      threads: z.number().int().min(1).max(256).default(2),
      /** Spill folder; defaults to <lake>/_tmp/duckdb. */
      tempDirectory: z.string().optional(),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      maxPlausiblePrice: z.number().positive().default(50_000),
      dedupeWindowHours: z
        .number()
        .positive()
        .max(24 * 7)
        .default(24),
      minMatchConfidence: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  dq: z
    .strictObject({
      completeness: z
        .strictObject({ min: z.number().min(0).max(1).default(0.95), severity: Severity.default('fail') })
        .prefault({}),
      validity: z
        .strictObject({ min: z.number().min(0).max(1).default(0.99), severity: Severity.default('fail') })
        .prefault({}),
      freshness: z
        .strictObject({ maxAgeHours: z.number().positive().default(48), severity: Severity.default('warn') })
        .prefault({}),
      rowCountChange: z
        .strictObject({ maxRatio: z.number().positive().default(0.5), severity: Severity.default('warn') })
        .prefault({}),
      quarantineRate: z
        .strictObject({ max: z.number().min(0).max(1).default(0.25), severity: Severity.default('warn') })
        .prefault({}),
      conservation: z.strictObject({ severity: Severity.default('fail') }).prefault({}),
      /** Share of a night's raw files that may be unreadable (each quarantined file-level) before the step fails. */
      unreadableFiles: z
        .strictObject({ maxRatio: z.number().min(0).max(1).default(0.5), severity: Severity.default('fail') })
        .prefault({}),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      retries: z.number().int().min(0).max(10).default(2),
      retryMinDelayMs: z.number().int().min(0).default(500),
    })
    .prefault({}),
  /** The real-time path (streaming/, `dealctl stream`); see docs/streaming.md. */
  streaming: z
    .strictObject({
      /** Comma-separated bootstrap brokers. */
      brokers: z.string().min(1).default('127.0.0.1:9092'),
      clientId: z.string().min(1).default('dealfinder'),
      /** Prepended to every topic and consumer-group name (isolates environments and tests). */
      topicPrefix: z
        .string()
        .regex(/^[A-Za-z0-9._-]*$/)
        .default(''),
      /** Names this process among the instances of a stage: transactional ids are <stage>-<instanceId>. */
      instanceId: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/)
        .default('0'),
      /** Local state (dedupe window, delivery ledger, scanner memory); default <lake>/_streaming. */
      stateDir: z.string().optional(),
      /** Messages larger than this go to the dead-letter topic as oversized. */
      maxMessageBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024),
      /** Fetch long-poll; small values lower latency and speed up shutdown. */
      maxWaitMs: z.number().int().min(10).max(10_000).default(100),
      /** Partition batches a stage takes at once: processed as one step, committed in one transaction. */
      concurrentPartitions: z.number().int().min(1).max(64).default(6),
      /** Topic overrides by logical name (raw, parsed, evaluated, opportunities, notifications, dlq.<stage>). */
      topics: z
        .record(
          z.string(),
          z.strictObject({
            partitions: z.number().int().min(1).max(1000).optional(),
            retentionHours: z.number().positive().optional(),
          }),
        )
        .default({}),
      retry: z
        .strictObject({
          attempts: z.number().int().min(0).max(10).default(3),
          initialDelayMs: z.number().int().min(0).default(200),
          maxDelayMs: z.number().int().min(0).default(5_000),
        })
        .prefault({}),
      scanner: z
        .strictObject({
          feeds: z
            .array(
              z.strictObject({
                name: z.string().min(1),
                /** http(s) URL or a local file path. */
                url: z.string().min(1),
                category: z.string().optional(),
              }),
            )
            .default([]),
          timeoutMs: z.number().int().min(100).default(10_000),
          intervalSeconds: z.number().positive().default(300),
          maxBackoffSeconds: z.number().positive().default(3_600),
          userAgent: z.string().default('DealFinderScanner/0.1 (+https://example.invalid/dealfinder)'),
          /** How long the scanner remembers what it published. */
          rememberDays: z.number().positive().default(14),
        })
        .prefault({}),
      price: z
        .strictObject({
          /** Ensemble weights by estimator name; missing names share what is left (default 0.8/0.1/0.1 for three). */
          weights: z.record(z.string(), z.number().min(0)).default({}),
          /** How often the price-history estimator looks for a newer price_trends partition. */
          trendsReloadSeconds: z.number().positive().default(60),
        })
        .prefault({}),
      evaluate: z
        .strictObject({
          minDiscount: z.number().min(0).default(50),
          /** Optional: also require discount / estimate ≥ this percentage. */
          minDiscountPct: z.number().min(0).max(100).optional(),
        })
        .prefault({}),
      notify: z
        .strictObject({
          channels: z
            .array(
              z.discriminatedUnion('type', [
                z.strictObject({
                  type: z.literal('webhook'),
                  name: z.string().optional(),
                  url: z.string().url(),
                  ratePerMinute: z.number().positive().optional(),
                }),
                z.strictObject({
                  type: z.literal('slack'),
                  name: z.string().optional(),
                  url: z.string().url(),
                  ratePerMinute: z.number().positive().optional(),
                }),
                z.strictObject({
                  type: z.literal('pushover'),
                  name: z.string().optional(),
                  url: z.string().url().default('https://api.pushover.net/1/messages.json'),
                  /** Names of the environment variables holding the secrets (resolved at start). */
                  tokenEnv: z.string().default('PUSHOVER_TOKEN'),
                  userEnv: z.string().default('PUSHOVER_USER'),
                  ratePerMinute: z.number().positive().optional(),
                }),
                z.strictObject({
                  type: z.literal('console'),
                  name: z.string().optional(),
                  ratePerMinute: z.number().positive().optional(),
                }),
              ]),
            )
            .default([{ type: 'console' }]),
          timeoutMs: z.number().int().min(100).default(5_000),
        })
        .prefault({}),
      /** Port of the /metrics endpoint; 0 picks a free port; absent disables it. */
      metricsPort: z.number().int().min(0).max(65535).optional(),
    })
    .prefault({}),
  /** AWS access shared by the S3 lake, EMR and Glue (see core/aws.ts). */
  aws: z
    .strictObject({
      region: z.string().min(1).default('us-east-1'),
      /** Endpoint override (an emulator such as moto); else AWS_ENDPOINT_URL; else the AWS default. */
      endpoint: z.url().optional(),
      /** Path-style S3 addressing; default: on when an endpoint override is in effect. */
      forcePathStyle: z.boolean().optional(),
      /** SDK attempts per request (1 = no retry); throttling and 5xx are retried with backoff. */
      maxAttempts: z.number().int().min(1).max(20).default(5),
      retryMode: z.enum(['standard', 'adaptive']).default('adaptive'),
      /** Bucket for artifacts (runner, plans) and, by default, EMR logs. */
      bucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
        .default('deal-finder-lake'),
      /** Key prefix under the bucket, without leading or trailing slash. */
      prefix: z
        .string()
        .regex(
          /^([A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*)?$/,
          'a key prefix without leading/trailing "/"',
        )
        .default('deal-finder'),
    })
    .prefault({}),
  /** Spark on EMR (pipelines/emr): a transient cluster per run, or steps on existingClusterId. */
  emr: z
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
    .prefault({}),
  /** Glue Data Catalog: one database, one table per lake table (pipelines/glue). */
  glue: z
    .strictObject({
      enabled: z.boolean().default(true),
      database: z
        .string()
        .regex(/^[a-z0-9_]{1,255}$/, 'lower-case letters, digits and _')
        .default('deal_finder'),
      /** Account id of the catalog; default: the caller's. */
      catalogId: z.string().optional(),
    })
    .prefault({}),
  /** The Spark engine (jobs/engines/spark.ts): one long-lived spark-submit driver per engine. */
  spark: z
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
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export const DEFAULT_CONFIG_FILE = 'dealfinder.config.json';

/** Environment overrides: DEALFINDER_<SECTION>_<KEY> in screaming snake case, e.g. DEALFINDER_DUCKDB_MEMORY_LIMIT=4GB. */
const ENV_OVERRIDES: Record<string, [string, string, 'string' | 'number']> = {
  DEALFINDER_LAKE_ROOT: ['lake', 'root', 'string'],
  DEALFINDER_DUCKDB_MEMORY_LIMIT: ['duckdb', 'memoryLimit', 'string'],
  DEALFINDER_DUCKDB_THREADS: ['duckdb', 'threads', 'number'],
  DEALFINDER_DUCKDB_TEMP_DIRECTORY: ['duckdb', 'tempDirectory', 'string'],
  DEALFINDER_JOBS_MAX_PLAUSIBLE_PRICE: ['jobs', 'maxPlausiblePrice', 'number'],
  DEALFINDER_PIPELINE_RETRIES: ['pipeline', 'retries', 'number'],
  DEALFINDER_STREAMING_BROKERS: ['streaming', 'brokers', 'string'],
  DEALFINDER_STREAMING_TOPIC_PREFIX: ['streaming', 'topicPrefix', 'string'],
  DEALFINDER_STREAMING_INSTANCE_ID: ['streaming', 'instanceId', 'string'],
  DEALFINDER_STREAMING_STATE_DIR: ['streaming', 'stateDir', 'string'],
  DEALFINDER_STREAMING_METRICS_PORT: ['streaming', 'metricsPort', 'number'],
  DEALFINDER_AWS_REGION: ['aws', 'region', 'string'],
  DEALFINDER_AWS_ENDPOINT: ['aws', 'endpoint', 'string'],
  DEALFINDER_AWS_BUCKET: ['aws', 'bucket', 'string'],
  DEALFINDER_AWS_PREFIX: ['aws', 'prefix', 'string'],
  DEALFINDER_EMR_EXISTING_CLUSTER_ID: ['emr', 'existingClusterId', 'string'],
  DEALFINDER_EMR_LOG_URI: ['emr', 'logUri', 'string'],
  DEALFINDER_GLUE_DATABASE: ['glue', 'database', 'string'],
  DEALFINDER_SPARK_SUBMIT: ['spark', 'submit', 'string'],
  DEALFINDER_SPARK_MASTER: ['spark', 'master', 'string'],
  DEALFINDER_SPARK_DRIVER_MEMORY: ['spark', 'driverMemory', 'string'],
};

export interface LoadConfigOptions {
  /** Explicit config file; else DEALFINDER_CONFIG; else ./dealfinder.config.json when present. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence overrides (CLI flags). */
  overrides?: ConfigInput;
  cwd?: string;
}

/** Loads file + environment + overrides, validates, and returns a frozen typed config. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.DEALFINDER_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, DEFAULT_CONFIG_FILE);
  let raw: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`cannot parse ${file}: ${(error as Error).message}`);
    }
  } else if (explicit) {
    throw new ConfigError(`config file ${file} does not exist`);
  }
  for (const [name, [section, key, type]] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const parsed = type === 'number' ? Number(value) : value;
    if (type === 'number' && Number.isNaN(parsed)) throw new ConfigError(`${name}=${value} is not a number`);
    const target = (raw[section] ?? {}) as Record<string, unknown>;
    target[key] = parsed;
    raw[section] = target;
  }
  raw = deepMerge(raw, (options.overrides ?? {}) as Record<string, unknown>);
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new ConfigError(`invalid configuration at ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  const config = result.data;
  if (!/^s3:\/\//.test(config.lake.root)) config.lake.root = path.resolve(cwd, config.lake.root);
  return Object.freeze(config);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
