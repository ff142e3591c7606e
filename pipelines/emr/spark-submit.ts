/**
 * The spark-submit command line of one EMR step, as a pure function of its inputs, so the very
 * same arguments can be run against local Spark (toLocalSparkArgs) and proven to work.
 *
 * An EMR step runs `command-runner.jar` with these args; the first one is `spark-submit`.
 * Runner contract (jobs/spark/runner.py): `runner.py --plans <plans.json> --job <name>
 * [--result <result.json>] [extra…]`; the plans file is the JSON array of the run's plans in the
 * runner's format (sparkPlanOf in jobs/engines/spark/plan.ts); the result file holds rows, files and DQ
 * metrics per output. Change `runnerArgs` in one place if the runner's flags change.
 */
import { confArgs, sparkConf } from '../../jobs/engines/spark/index.ts';

export interface SparkSubmitSpec {
  /** s3:// URI (EMR) or local path of the PySpark runner. */
  readonly runner: string;
  /** s3:// URI or local path of the run's plans JSON. */
  readonly plans: string;
  /** Job to run from the plans file. */
  readonly job: string;
  /** Where the runner writes its result JSON (s3:// or local); omitted → printed to stdout. */
  readonly result?: string | undefined;
  /** cluster (driver on a core node; EMR default for steps here) or client (driver on the master). */
  readonly deployMode: 'cluster' | 'client';
  /** `--conf key=value` pairs, emitted in key order so the args are deterministic. */
  readonly conf?: Readonly<Record<string, string>>;
  /** Appended to the runner's own arguments. */
  readonly extraRunnerArgs?: readonly string[];
}

/** The runner's own arguments (after the script path). */
export function runnerArgs(
  spec: Pick<SparkSubmitSpec, 'plans' | 'job' | 'result' | 'extraRunnerArgs'>,
): string[] {
  return [
    '--plans',
    spec.plans,
    '--job',
    spec.job,
    ...(spec.result ? ['--result', spec.result] : []),
    ...(spec.extraRunnerArgs ?? []),
  ];
}

/**
 * `spark-submit …` exactly as the EMR step's command-runner.jar receives it; the `--conf` list is
 * sparkConf() of an EMR step (jobs/engines/spark/settings.ts), the same definition the local
 * driver uses, with `emr.sparkConf` on top.
 */
export function emrStepArgs(spec: SparkSubmitSpec): string[] {
  return [
    'spark-submit',
    '--deploy-mode',
    spec.deployMode,
    '--name',
    `deal-finder:${spec.job}`,
    ...confArgs(sparkConf({ kind: 'emr-step' }, spec.conf ?? {})),
    spec.runner,
    ...runnerArgs(spec),
  ];
}

/** Settings that only make sense on YARN; dropped for a local run. */
const CLUSTER_ONLY_CONF = [/^spark\.yarn\./, /^spark\.executor\.instances=/, /^spark\.dynamicAllocation\./];

/**
 * The same argument list for local Spark: the `spark-submit` word dropped (the caller supplies
 * its own SPARK_SUBMIT binary), s3:// URIs replaced by the local files they were uploaded from,
 * `--deploy-mode cluster` turned into `client` (local mode has no cluster deploy for Python),
 * YARN-only confs dropped and `--master local[N]` added. Everything else is kept verbatim,
 * so what EMR would run is what runs here.
 */
export function toLocalSparkArgs(
  emrArgs: readonly string[],
  localPaths: Readonly<Record<string, string>>,
  options: { master?: string } = {},
): string[] {
  const args = emrArgs[0] === 'spark-submit' ? emrArgs.slice(1) : [...emrArgs];
  const out: string[] = ['--master', options.master ?? 'local[2]'];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--deploy-mode') {
      out.push(a, 'client');
      i++;
      continue;
    }
    if (a === '--conf' && CLUSTER_ONLY_CONF.some((re) => re.test(args[i + 1] ?? ''))) {
      i++;
      continue;
    }
    if (/^s3a?:\/\//.test(a)) {
      const local = localPaths[a];
      if (!local) throw new Error(`no local file given for ${a}`);
      out.push(local);
      continue;
    }
    out.push(a);
  }
  return out;
}
