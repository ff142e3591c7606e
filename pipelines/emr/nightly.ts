/**
 * `dealctl nightly --engine emr`: the nightly DAG on EMR, run by the one DAG runner
 * (pipelines/nightly.ts) with the EMR engine (engine.ts). This adds only what the EMR summary
 * shows beyond a local run's: the cluster, each job's step id, and whether the run was only
 * submitted (--no-wait; `dealctl emr watch RUN` or `nightly --engine emr --resume RUN` finishes it).
 */
import type { AwsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import type { Lake } from '../../core/lake.ts';
import type { Logger } from '../../core/logging.ts';
import { type ProgressReporter, type RunSummary, runNightly } from '../nightly.ts';
import { EmrEngine } from './engine.ts';

export interface EmrNightlyOptions {
  readonly date: string;
  readonly config: Config;
  /** The lake (an s3:// root); its metaRoot holds the ledger. */
  readonly lake: Lake;
  readonly log: Logger;
  readonly clients: AwsClients;
  /** Run only these jobs (dependency order kept); an unknown one is a usage error. */
  readonly only?: readonly string[] | undefined;
  /** false: return once the steps are submitted (ledger: submitted steps `running`). Default true. */
  readonly wait?: boolean;
  /** Local PySpark runner to upload; default jobs/spark/runner.py. */
  readonly runnerFile?: string;
  readonly runId?: string;
  /** Continue this EMR run: succeeded steps kept, submitted ones awaited, failed ones submitted again. */
  readonly resume?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly progress?: ProgressReporter | undefined;
  /** How long to look for a failed step's stderr (tests). */
  readonly stderrFetch?: { attempts: number; waitMs: number };
}

export interface EmrNightlySummary extends RunSummary {
  /** submitted: --no-wait returned after submission (steps are still running on EMR). */
  readonly state: 'succeeded' | 'failed' | 'submitted';
  readonly clusterId: string | undefined;
  readonly stepIds: Record<string, string>;
  /** Upload/catalog/submit wall times of a submission made by this invocation. */
  readonly timings: Record<string, number> | undefined;
}

export async function runNightlyOnEmr(options: EmrNightlyOptions): Promise<EmrNightlySummary> {
  const engine = new EmrEngine({
    config: options.config,
    clients: options.clients,
    lake: options.lake,
    log: options.log,
    wait: options.wait,
    runnerFile: options.runnerFile,
    stderrFetch: options.stderrFetch,
  });
  try {
    const summary = await runNightly({
      date: options.date,
      engine,
      config: options.config,
      lake: options.lake,
      log: options.log,
      only: options.only,
      resume: options.resume,
      runId: options.runId,
      signal: options.signal,
      progress: options.progress,
    });
    return {
      ...summary,
      state: summary.status === 'failed' ? 'failed' : summary.detached ? 'submitted' : 'succeeded',
      clusterId: engine.clusterId,
      stepIds: { ...engine.stepIds },
      timings: engine.timings,
    };
  } finally {
    await engine.close();
  }
}
