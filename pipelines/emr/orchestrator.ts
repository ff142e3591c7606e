/**
 * Runs a night's jobs on EMR: upload the runner and the plans (content-hash keys), make sure the
 * Glue tables exist, start a transient cluster with the steps (RunJobFlow) or add the steps to
 * an existing cluster (AddJobFlowSteps), poll until done, then register the new partitions in
 * Glue. On a failed step the tail of its stderr comes back in the error; on abort (Ctrl-C) the
 * unfinished steps are cancelled and a transient cluster is terminated.
 *
 * prepareEmrRun + emrRunRequests are the pure half (what --dry-run prints); runOnEmr sends the
 * very same inputs.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import { type AwsClients, type AwsRequest, parseS3Uri } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { JOBS } from '../../jobs/registry.ts';
import {
  type AddPartitionsResult,
  addPartitions,
  type CatalogResult,
  type CatalogTarget,
  catalogRequests,
  ensureCatalog,
  type PartitionSpec,
  type PlannedPartition,
  partitionInputOf,
  partitionRequests,
} from '../glue/catalog.ts';
import {
  type Artifact,
  artifactOf,
  artifactRequests,
  artifactUri,
  fileArtifact,
  type UploadResult,
  uploadArtifact,
} from '../s3/artifacts.ts';
import { EmrCancelledError, EmrClusterFailedError, EmrDeadlineError, EmrStepFailedError } from './errors.ts';
import { fetchStepStderr, type StderrTail } from './logs.ts';
import { isTerminalStep, type StepStatus, waitForSteps } from './poller.ts';
import {
  addJobFlowStepsInput,
  type EmrStepsSpec,
  logUriOf,
  resultsUriOf,
  runJobFlowInput,
  stepName,
} from './requests.ts';

export interface EmrLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const silent: EmrLog = { info: () => undefined, warn: () => undefined };

export interface EmrRunInput {
  readonly config: Pick<Config, 'aws' | 'emr' | 'glue' | 'lake'>;
  readonly runId: string;
  readonly date: string;
  /** Jobs in dependency order. Default: every job of the registry. */
  readonly jobs?: readonly string[];
  /** Local path of the PySpark runner (jobs/spark/runner.py). */
  readonly runnerFile: string;
  /** The run's job plans; uploaded as plans.json. */
  readonly plans: unknown;
  /** Partitions to register in Glue after success. Default: every output of the jobs for the date. */
  readonly partitions?: readonly PartitionSpec[];
  readonly signal?: AbortSignal | undefined;
  readonly log?: EmrLog;
  /** Step state changes, e.g. to write the run ledger. */
  readonly onStep?: (job: string, step: StepStatus) => void;
  /** Once the steps exist: the cluster and each job's step id, in submission order. */
  readonly onSubmitted?: (clusterId: string, steps: readonly { job: string; id: string }[]) => void;
  /** false: return right after submission (no polling, no Glue partitions). Default true. */
  readonly wait?: boolean;
  /** How long to look for a failed step's stderr in S3 (EMR uploads logs every ~5 min). */
  readonly stderrFetch?: { attempts: number; waitMs: number };
  readonly now?: () => number;
}

export interface PreparedEmrRun {
  readonly spec: EmrStepsSpec;
  readonly artifacts: { readonly runner: Artifact; readonly plans: Artifact };
  /** Set when the steps go to an existing cluster. */
  readonly existingClusterId: string | undefined;
  readonly catalog: CatalogTarget | undefined;
  readonly partitions: readonly PlannedPartition[];
}

/** Output partitions of the given jobs for one date, from the job registry. */
export function partitionsOfJobs(jobs: readonly string[], date: string): PartitionSpec[] {
  return JOBS.filter((j) => jobs.includes(j.name)).flatMap((j) =>
    j.outputs.map((o) => ({ table: o.table, date, sub: o.subpartition })),
  );
}

/** Everything a run will send, computed without any AWS call. */
export async function prepareEmrRun(input: EmrRunInput): Promise<PreparedEmrRun> {
  const { config } = input;
  if (!/^s3:\/\//.test(config.lake.root)) {
    throw new ConfigError(
      `the EMR engine needs the lake on S3, but lake.root is ${config.lake.root}`,
      'set lake.root (or DEALFINDER_LAKE_ROOT) to s3://<bucket>/<prefix>',
    );
  }
  const jobs = input.jobs ?? JOBS.map((j) => j.name);
  const runner = await fileArtifact(input.runnerFile, 'runner.py');
  const plans = artifactOf('plans.json', `${JSON.stringify(input.plans, null, 1)}\n`);
  const spec: EmrStepsSpec = {
    runId: input.runId,
    date: input.date,
    jobs,
    runnerUri: artifactUri(config.aws.bucket, config.aws.prefix, runner),
    plansUri: artifactUri(config.aws.bucket, config.aws.prefix, plans),
    resultsUri: resultsUriOf(config, input.runId),
  };
  const catalog: CatalogTarget | undefined = config.glue.enabled
    ? { database: config.glue.database, lakeRoot: config.lake.root, catalogId: config.glue.catalogId }
    : undefined;
  const partitions = (input.partitions ?? partitionsOfJobs(jobs, input.date)).map((p) =>
    partitionInputOf(p, config.lake.root),
  );
  return {
    spec,
    artifacts: { runner, plans },
    existingClusterId: config.emr.existingClusterId,
    catalog,
    partitions,
  };
}

/** The exact requests of a run, in order, for --dry-run (JSON-printable). */
export function emrRunRequests(config: EmrRunInput['config'], prepared: PreparedEmrRun): AwsRequest[] {
  const { bucket, prefix } = config.aws;
  const out: AwsRequest[] = [
    ...artifactRequests(bucket, prefix, prepared.artifacts.runner),
    ...artifactRequests(bucket, prefix, prepared.artifacts.plans),
    ...(prepared.catalog ? catalogRequests(prepared.catalog) : []),
  ];
  const clusterId = prepared.existingClusterId;
  if (clusterId) {
    out.push({
      service: 'emr',
      command: 'AddJobFlowSteps',
      input: { ...addJobFlowStepsInput(config, clusterId, prepared.spec) },
    });
  } else {
    out.push(
      { service: 'emr', command: 'RunJobFlow', input: { ...runJobFlowInput(config, prepared.spec) } },
      {
        service: 'emr',
        command: 'ListSteps',
        input: { ClusterId: '<JobFlowId from RunJobFlow>' },
        when: 'once, to learn the step ids of the steps RunJobFlow created',
      },
    );
  }
  const cid = clusterId ?? '<JobFlowId from RunJobFlow>';
  out.push(
    {
      service: 'emr',
      command: 'ListSteps',
      input: { ClusterId: cid, StepIds: ['<the run’s step ids>'] },
      when: `polled every ${config.emr.pollMs} ms growing ×1.5 to ${config.emr.maxPollMs} ms, for at most ${config.emr.deadlineMinutes} min`,
    },
    {
      service: 'emr',
      command: 'DescribeCluster',
      input: { ClusterId: cid },
      when: 'with each poll while steps are unfinished',
    },
    {
      service: 's3',
      command: 'GetObject',
      input: {
        Bucket: parseS3Uri(logUriOf(config)).bucket,
        Key: `${parseS3Uri(logUriOf(config)).key}${cid}/steps/<failed step id>/stderr.gz`,
      },
      when: 'only if a step fails (its stderr tail is shown)',
    },
    {
      service: 'emr',
      command: 'CancelSteps',
      input: { ClusterId: cid, StepIds: ['<unfinished step ids>'], StepCancellationOption: 'SEND_INTERRUPT' },
      when: 'only on abort (Ctrl-C) or deadline',
    },
  );
  if (!clusterId) {
    out.push({
      service: 'emr',
      command: 'TerminateJobFlows',
      input: { JobFlowIds: [cid] },
      when: 'only on abort, deadline or failure (the transient cluster otherwise terminates itself)',
    });
  }
  if (prepared.catalog) out.push(...partitionRequests(prepared.catalog, prepared.partitions));
  return out;
}

export interface EmrRunResult {
  readonly clusterId: string;
  readonly transient: boolean;
  readonly steps: readonly StepStatus[];
  readonly uploads: { readonly runner: UploadResult; readonly plans: UploadResult };
  readonly catalog: CatalogResult | undefined;
  readonly partitions: AddPartitionsResult | undefined;
  readonly timings: {
    uploadMs: number;
    catalogMs: number;
    submitMs: number;
    waitMs: number;
    partitionsMs: number;
  };
}

/** A run whose steps EMR has accepted: what awaitEmrRun needs to follow them (also after a restart). */
export interface SubmittedEmrRun {
  readonly clusterId: string;
  /** A cluster of this run only (RunJobFlow): terminated on abort, deadline or failure. */
  readonly transient: boolean;
  /** Each job's step, in submission (dependency) order. */
  readonly steps: readonly { readonly job: string; readonly id: string }[];
}

export interface SubmitResult extends SubmittedEmrRun {
  readonly prepared: PreparedEmrRun;
  readonly uploads: { readonly runner: UploadResult; readonly plans: UploadResult };
  readonly catalog: CatalogResult | undefined;
  readonly timings: { uploadMs: number; catalogMs: number; submitMs: number };
}

/** Uploads the runner and plans, makes sure the Glue tables exist, and submits the steps. */
export async function submitEmrRun(clients: AwsClients, input: EmrRunInput): Promise<SubmitResult> {
  const log = input.log ?? silent;
  const { config, signal } = input;
  const prepared = await prepareEmrRun(input);
  const { spec } = prepared;
  const { bucket, prefix } = config.aws;
  const t0 = performance.now();
  signal?.throwIfAborted();
  const uploads = {
    runner: await uploadArtifact(clients.s3, bucket, prefix, prepared.artifacts.runner),
    plans: await uploadArtifact(clients.s3, bucket, prefix, prepared.artifacts.plans),
  };
  log.info({ uploads }, 'emr: artifacts in S3');
  const t1 = performance.now();
  const catalog = prepared.catalog ? await ensureCatalog(clients.glue, prepared.catalog) : undefined;
  if (catalog) log.info({ catalog }, 'emr: Glue catalog ready');
  const t2 = performance.now();
  signal?.throwIfAborted();

  let clusterId: string;
  let stepIds: string[];
  const transient = !prepared.existingClusterId;
  if (prepared.existingClusterId) {
    clusterId = prepared.existingClusterId;
    const added = await clients.emr.send(
      new AddJobFlowStepsCommand(addJobFlowStepsInput(config, clusterId, spec)),
    );
    stepIds = added.StepIds ?? [];
  } else {
    const run = await clients.emr.send(new RunJobFlowCommand(runJobFlowInput(config, spec)));
    clusterId = run.JobFlowId ?? '';
    stepIds = await stepIdsByName(clients, clusterId, spec);
  }
  if (stepIds.length !== spec.jobs.length) {
    throw new EmrClusterFailedError(
      clusterId,
      'UNKNOWN',
      `expected ${spec.jobs.length} steps, EMR reports ${stepIds.length}`,
      [],
    );
  }
  log.info({ clusterId, transient, stepIds }, 'emr: steps submitted');
  const steps = stepIds.map((id, i) => ({ job: spec.jobs[i]!, id }));
  input.onSubmitted?.(clusterId, steps);
  const t3 = performance.now();
  return {
    clusterId,
    transient,
    steps,
    prepared,
    uploads,
    catalog,
    timings: { uploadMs: Math.round(t1 - t0), catalogMs: Math.round(t2 - t1), submitMs: Math.round(t3 - t2) },
  };
}

export type AwaitInput = Pick<EmrRunInput, 'config' | 'signal' | 'log' | 'onStep' | 'stderrFetch' | 'now'>;

/**
 * Polls a submitted run's steps until all COMPLETED; throws EmrStepFailedError (with the stderr
 * tail), EmrCancelledError, EmrClusterFailedError or EmrDeadlineError. On abort, deadline or
 * failure the unfinished steps are cancelled and a transient cluster terminated.
 */
export async function awaitEmrRun(
  clients: AwsClients,
  input: AwaitInput,
  run: SubmittedEmrRun,
): Promise<StepStatus[]> {
  const log = input.log ?? silent;
  const now = input.now ?? Date.now;
  const { config, signal } = input;
  const { clusterId, transient } = run;
  const stepIds = run.steps.map((s) => s.id);
  const jobOf = new Map(run.steps.map((s) => [s.id, s.job]));
  const deadlineMs = config.emr.deadlineMinutes * 60_000;

  const cleanUp = async (why: string, steps: readonly StepStatus[]) => {
    const open = steps.filter((s) => !isTerminalStep(s.state)).map((s) => s.id);
    if (open.length > 0) {
      try {
        await clients.emr.send(
          new CancelStepsCommand({
            ClusterId: clusterId,
            StepIds: open,
            StepCancellationOption: 'SEND_INTERRUPT',
          }),
        );
        log.warn({ clusterId, open, why }, 'emr: unfinished steps cancelled');
      } catch (error) {
        log.warn({ clusterId, open, error: String(error) }, 'emr: CancelSteps failed');
      }
    }
    if (transient) {
      await clients.emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [clusterId] }));
      log.warn({ clusterId, why }, 'emr: transient cluster terminated');
    }
  };

  let outcome: Awaited<ReturnType<typeof waitForSteps>>;
  let last: StepStatus[] = stepIds.map((id) => ({ id, name: '', state: 'PENDING' }));
  try {
    outcome = await waitForSteps(clients.emr, clusterId, stepIds, {
      pollMs: config.emr.pollMs,
      maxPollMs: config.emr.maxPollMs,
      deadline: now() + deadlineMs,
      signal,
      now,
      onChange: (step, previous) => {
        last = last.map((s) => (s.id === step.id ? step : s));
        log.info(
          { clusterId, step: step.id, job: jobOf.get(step.id), from: previous ?? null, to: step.state },
          'emr: step',
        );
        input.onStep?.(jobOf.get(step.id) ?? step.name, step);
      },
    });
  } catch (error) {
    if (signal?.aborted) {
      await cleanUp('aborted', last);
      throw new EmrCancelledError(
        clusterId,
        `aborted by the user; unfinished steps cancelled${transient ? ', cluster terminated' : ''}`,
      );
    }
    throw error;
  }
  switch (outcome.kind) {
    case 'completed':
      return outcome.steps;
    case 'failed': {
      const stderr: StderrTail = await fetchStepStderr(
        clients.s3,
        logUriOf(config),
        clusterId,
        outcome.step.id,
        {
          lines: config.emr.stderrTailLines,
          attempts: input.stderrFetch?.attempts ?? 1,
          waitMs: input.stderrFetch?.waitMs ?? 30_000,
          signal,
        },
      );
      if (transient) await cleanUp('step failed', outcome.steps);
      throw new EmrStepFailedError(
        { ...outcome.step, name: jobOf.get(outcome.step.id) ?? outcome.step.name },
        stderr,
        clusterId,
      );
    }
    case 'cancelled':
      if (transient) await cleanUp('step cancelled', outcome.steps);
      throw new EmrCancelledError(
        clusterId,
        `step ${jobOf.get(outcome.step.id)} (${outcome.step.id}) was cancelled`,
      );
    case 'cluster-failed':
      throw new EmrClusterFailedError(clusterId, outcome.state, outcome.reason, outcome.steps);
    case 'deadline':
      await cleanUp('deadline', outcome.steps);
      throw new EmrDeadlineError(clusterId, deadlineMs, outcome.steps);
  }
}

/**
 * Runs the jobs on EMR start to end (submit, await, Glue partitions): the whole-run path without
 * the run ledger (the nightly DAG runner drives EmrEngine instead, which uses the same halves).
 * Throws EmrStepFailedError / EmrClusterFailedError / EmrDeadlineError / EmrCancelledError.
 */
export async function runOnEmr(clients: AwsClients, input: EmrRunInput): Promise<EmrRunResult> {
  const submitted = await submitEmrRun(clients, input);
  const { clusterId, transient, uploads, catalog, prepared, timings } = submitted;
  if (input.wait === false) {
    return {
      clusterId,
      transient,
      steps: submitted.steps.map((s) => ({
        id: s.id,
        name: stepName(s.job, prepared.spec.runId),
        state: 'PENDING',
      })),
      uploads,
      catalog,
      partitions: undefined,
      timings: { ...timings, waitMs: 0, partitionsMs: 0 },
    };
  }
  const t3 = performance.now();
  const steps = await awaitEmrRun(clients, input, submitted);
  const t4 = performance.now();
  const partitions = prepared.catalog
    ? await addPartitions(clients.glue, prepared.catalog, prepared.partitions)
    : undefined;
  const t5 = performance.now();
  return {
    clusterId,
    transient,
    steps,
    uploads,
    catalog,
    partitions,
    timings: { ...timings, waitMs: Math.round(t4 - t3), partitionsMs: Math.round(t5 - t4) },
  };
}

/** RunJobFlow does not return step ids: find the run's steps by name (names carry the run id). */
async function stepIdsByName(clients: AwsClients, clusterId: string, spec: EmrStepsSpec): Promise<string[]> {
  const byName = new Map<string, string>();
  let marker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await clients.emr.send(new ListStepsCommand({ ClusterId: clusterId, Marker: marker }));
    for (const s of res.Steps ?? []) if (s.Name && s.Id) byName.set(s.Name, s.Id);
    marker = res.Marker;
    if (!marker) break;
  }
  return spec.jobs.map((job) => byName.get(stepName(job, spec.runId))).filter((id): id is string => !!id);
}

/** `--dry-run`: the requests a run would make, in order, without any AWS call. */
export async function dryRunEmr(input: EmrRunInput): Promise<AwsRequest[]> {
  return emrRunRequests(input.config, await prepareEmrRun(input));
}
