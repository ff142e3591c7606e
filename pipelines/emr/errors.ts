import { DealFinderError } from '../../core/errors.ts';
import type { StepStatus } from './poller.ts';

/** A step ended FAILED (or INTERRUPTED); `stderrTail` holds the end of its stderr when EMR had uploaded it. */
export class EmrStepFailedError extends DealFinderError {
  constructor(
    readonly step: StepStatus,
    readonly stderr: { uri: string; tail: string | null },
    clusterId: string,
  ) {
    const why = [step.failure?.reason, step.failure?.message].filter(Boolean).join(': ');
    super(
      'emr-step-failed',
      `EMR step ${step.name} (${step.id}) on ${clusterId} ended ${step.state}${why ? `: ${why}` : ''}` +
        (stderr.tail ? `\n--- tail of ${stderr.uri} ---\n${stderr.tail}` : ''),
      {
        // INTERRUPTED = the cluster went away under the step (Spot master loss, termination): worth a retry.
        retryable: step.state === 'INTERRUPTED',
        hint: stderr.tail
          ? `full log: ${stderr.uri}`
          : `the step log was not in S3 yet (EMR uploads every ~5 min): look at ${stderr.uri}`,
        details: { stepId: step.id, clusterId, state: step.state, stderrUri: stderr.uri },
      },
    );
  }
}

export class EmrClusterFailedError extends DealFinderError {
  constructor(clusterId: string, state: string, reason: string | undefined, steps: readonly StepStatus[]) {
    super(
      'emr-cluster-failed',
      `EMR cluster ${clusterId} is ${state}${reason ? `: ${reason}` : ''} with steps unfinished (${steps
        .filter((s) => s.state !== 'COMPLETED')
        .map((s) => `${s.name}=${s.state}`)
        .join(', ')})`,
      {
        // Capacity and Spot problems go away; bootstrap and configuration errors do not.
        retryable: /capacity|spot|insufficient|internal/i.test(reason ?? ''),
        hint: 'see the cluster events in the EMR console or `dealctl emr status <cluster-id>`',
        details: { clusterId, state, reason },
      },
    );
  }
}

export class EmrDeadlineError extends DealFinderError {
  constructor(clusterId: string, deadlineMs: number, steps: readonly StepStatus[]) {
    super(
      'emr-deadline',
      `EMR steps on ${clusterId} not finished within ${Math.round(deadlineMs / 60_000)} min (${steps
        .map((s) => `${s.name}=${s.state}`)
        .join(', ')})`,
      { hint: 'raise emr.deadlineMinutes, or add task capacity (emr.taskSpotCapacity)', retryable: false },
    );
  }
}

export class EmrCancelledError extends DealFinderError {
  constructor(clusterId: string, what: string) {
    super('emr-cancelled', `EMR run on ${clusterId} cancelled: ${what}`, {
      hint: 'continue later with `dealctl nightly --engine emr --resume <run-id>`',
      category: 'interrupted',
    });
  }
}

/**
 * EMR reports the step COMPLETED but its runner result (counts, files, DQ metrics, quarantine by
 * reason) cannot be read or does not hold what the plan expects: the step is failed, never
 * recorded as succeeded without its counts and checks.
 */
export class EmrStepResultError extends DealFinderError {
  constructor(job: string, stepId: string, uri: string, problem: string) {
    super(
      'emr-step-failed',
      `EMR step ${job} (${stepId}) completed but its result ${uri} is unusable: ${problem}`,
      {
        hint: `look at the object and the step log (dealctl emr logs); then rerun the step with \`dealctl nightly --engine emr --resume <run-id>\``,
        details: { job, stepId, uri, problem },
      },
    );
  }
}
