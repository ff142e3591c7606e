/**
 * Spark settings, defined once. The session settings job SQL relies on (SPARK_SESSION_CONF) go
 * into every launch's `--conf` and into every plan (the runner sets a plan's settings before it
 * runs it, so a long-lived driver cannot drift); sparkConf() adds what each kind of launch needs.
 * The local driver (driverSubmitArgs) and EMR steps (pipelines/emr/spark-submit.ts) both take
 * their `--conf` list from sparkConf(); the PySpark runner has no settings of its own.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../core/config.ts';

/** The PySpark runner every Spark launch executes (local spark-submit and EMR steps alike). */
export const SPARK_RUNNER = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'spark',
  'runner.py',
);

/** Session settings the job SQL relies on; carried by every plan and every launch. */
export const SPARK_SESSION_CONF: Readonly<Record<string, string>> = {
  'spark.sql.session.timeZone': 'UTC',
  // TIMESTAMP in job SQL means zone-less, like DuckDB's TIMESTAMP.
  'spark.sql.timestampType': 'TIMESTAMP_NTZ',
  'spark.sql.parquet.outputTimestampType': 'TIMESTAMP_MICROS',
  // Errors instead of silent NULLs on bad casts and overflows (Spark 4's default): job SQL uses TRY_CAST.
  'spark.sql.ansi.enabled': 'true',
};

/** Settings every launch gets besides the session ones: how the lake is written. */
const WRITE_CONF: Readonly<Record<string, string>> = {
  // A re-run replaces exactly the partition folder it writes, never the table.
  'spark.sql.sources.partitionOverwriteMode': 'dynamic',
  // No _SUCCESS markers: the lake lists *.parquet and commits whole folders.
  'spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs': 'false',
};

export type SparkLaunch =
  | {
      readonly kind: 'local-driver';
      readonly master: string;
      readonly shufflePartitions: number;
      /** Scratch folder of a local master (spark.local.dir, warehouse). */
      readonly workDir: string;
    }
  | { readonly kind: 'emr-step' };

/**
 * The `--conf` settings of one Spark launch: session + write settings, the launch's own, then
 * the user's (`spark.conf` or `emr.sparkConf` in the config) on top.
 */
export function sparkConf(
  launch: SparkLaunch,
  user: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const own: Record<string, string> =
    launch.kind === 'emr-step'
      ? // The runner is not idempotent mid-step: YARN must not start a second attempt on the same output.
        { 'spark.yarn.maxAppAttempts': '1' }
      : {
          'spark.ui.enabled': 'false',
          'spark.ui.showConsoleProgress': 'false',
          'spark.sql.shuffle.partitions': String(launch.shufflePartitions),
          ...(launch.master.startsWith('local')
            ? {
                'spark.driver.host': '127.0.0.1',
                'spark.driver.bindAddress': '127.0.0.1',
                'spark.local.dir': path.join(launch.workDir, 'local'),
                'spark.sql.warehouse.dir': path.join(launch.workDir, 'warehouse'),
              }
            : {}),
        };
  return { ...SPARK_SESSION_CONF, ...WRITE_CONF, ...own, ...user };
}

/** `--conf k=v` pairs in key order, so argument lists are deterministic. */
export function confArgs(conf: Readonly<Record<string, string>>): string[] {
  return Object.keys(conf)
    .sort()
    .flatMap((k) => ['--conf', `${k}=${conf[k]}`]);
}

export interface SparkSettings {
  /** spark-submit executable. */
  readonly submit: string;
  /** PYSPARK_PYTHON / PYSPARK_DRIVER_PYTHON, when set. */
  readonly python?: string | undefined;
  readonly master: string;
  readonly driverMemory: string;
  readonly shufflePartitions: number;
  readonly conf: Readonly<Record<string, string>>;
  readonly startTimeoutMs: number;
  readonly jobTimeoutMs: number;
  /** Environment of spark-submit (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Spark settings from the config; spark-submit and Python fall back to $SPARK_SUBMIT / $SPARK_PYTHON. */
export function sparkSettings(config: Config, env: NodeJS.ProcessEnv = process.env): SparkSettings {
  const s = config.spark;
  return {
    submit: s.submit ?? env.SPARK_SUBMIT ?? 'spark-submit',
    python: s.python ?? env.SPARK_PYTHON,
    master: s.master,
    driverMemory: s.driverMemory,
    shufflePartitions: s.shufflePartitions,
    conf: s.conf,
    startTimeoutMs: s.startTimeoutMs,
    jobTimeoutMs: s.jobTimeoutMs,
    env,
  };
}

/** The spark-submit argument list of the long-lived local driver (runner.py --serve). */
export function driverSubmitArgs(settings: SparkSettings, workDir: string, serveAddress: string): string[] {
  const conf = sparkConf(
    { kind: 'local-driver', master: settings.master, shufflePartitions: settings.shufflePartitions, workDir },
    settings.conf,
  );
  return [
    '--master',
    settings.master,
    '--driver-memory',
    settings.driverMemory,
    '--name',
    'dealfinder',
    ...confArgs(conf),
    SPARK_RUNNER,
    '--serve',
    serveAddress,
  ];
}
