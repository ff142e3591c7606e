/**
 * Watches EMR steps until they are all COMPLETED, one FAILED/INTERRUPTED/CANCELLED, the cluster
 * died, the deadline passed or the caller aborted.
 *
 * Step states: PENDING → RUNNING → COMPLETED | FAILED | CANCELLED | INTERRUPTED
 * (CANCEL_PENDING on the way to CANCELLED). One poll = ListSteps(StepIds) + DescribeCluster.
 * The interval starts at pollMs and grows ×1.5 per poll without a change, up to maxPollMs; a change
 * resets it. The SDK retries throttling itself (core/aws.ts); throttling that outlives those
 * retries makes the poller back off further instead of failing, until the deadline.
 */
import {
  DescribeClusterCommand,
  type EMRClient,
  ListStepsCommand,
  type StepState,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { isThrottling } from '../../core/aws.ts';
import { abortableSleep } from './sleep.ts';

export type { StepState };

export interface StepStatus {
  readonly id: string;
  readonly name: string;
  readonly state: StepState;
  readonly failure?: { reason?: string; message?: string; logFile?: string };
}

export type WaitOutcome =
  | { kind: 'completed'; steps: StepStatus[] }
  /** A step FAILED or was INTERRUPTED (`step` is the first one). */
  | { kind: 'failed'; step: StepStatus; steps: StepStatus[] }
  | { kind: 'cancelled'; step: StepStatus; steps: StepStatus[] }
  | { kind: 'cluster-failed'; state: string; reason: string | undefined; steps: StepStatus[] }
  | { kind: 'deadline'; steps: StepStatus[] };

export interface WaitOptions {
  readonly pollMs: number;
  readonly maxPollMs: number;
  /** Absolute time (ms since epoch, per `now`) after which waiting stops with kind 'deadline'. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  /** Called whenever a step's state changes (also for the first observation). */
  readonly onChange?: (step: StepStatus, previous: StepState | undefined) => void;
  readonly now?: () => number;
}

const TERMINAL = new Set<string>(['COMPLETED', 'FAILED', 'CANCELLED', 'INTERRUPTED']);
const CLUSTER_DEAD = new Set<string>(['TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS']);

export function isTerminalStep(state: string | undefined): boolean {
  return state !== undefined && TERMINAL.has(state);
}

function statusOf(s: StepSummary): StepStatus {
  const f = s.Status?.FailureDetails;
  return {
    id: s.Id ?? '',
    name: s.Name ?? '',
    state: (s.Status?.State ?? 'PENDING') as StepState,
    ...(f ? { failure: { reason: f.Reason, message: f.Message, logFile: f.LogFile } } : {}),
  };
}

/** Current status of the given steps (ListSteps pages through; at most 10 ids per call). */
export async function describeSteps(
  emr: EMRClient,
  clusterId: string,
  stepIds: readonly string[],
): Promise<StepStatus[]> {
  const found = new Map<string, StepStatus>();
  for (let i = 0; i < stepIds.length; i += 10) {
    const ids = stepIds.slice(i, i + 10);
    let marker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const res = await emr.send(
        new ListStepsCommand({ ClusterId: clusterId, StepIds: ids, Marker: marker }),
      );
      for (const s of res.Steps ?? []) if (s.Id && ids.includes(s.Id)) found.set(s.Id, statusOf(s));
      marker = res.Marker;
      if (!marker) break;
    }
  }
  return stepIds.map((id) => found.get(id) ?? { id, name: '', state: 'PENDING' as StepState });
}

export async function waitForSteps(
  emr: EMRClient,
  clusterId: string,
  stepIds: readonly string[],
  options: WaitOptions,
): Promise<WaitOutcome> {
  const now = options.now ?? Date.now;
  const seen = new Map<string, StepState>();
  let interval = options.pollMs;
  let steps: StepStatus[] = stepIds.map((id) => ({ id, name: '', state: 'PENDING' as StepState }));
  for (;;) {
    options.signal?.throwIfAborted();
    let changed = false;
    try {
      steps = await describeSteps(emr, clusterId, stepIds);
      for (const s of steps) {
        const before = seen.get(s.id);
        if (before !== s.state) {
          seen.set(s.id, s.state);
          changed = true;
          options.onChange?.(s, before);
        }
      }
      // Steps are submitted in dependency order; report the first bad one.
      const failed = steps.find((s) => s.state === 'FAILED' || s.state === 'INTERRUPTED');
      if (failed) return { kind: 'failed', step: failed, steps };
      const cancelled = steps.find((s) => s.state === 'CANCELLED');
      if (cancelled) return { kind: 'cancelled', step: cancelled, steps };
      if (steps.every((s) => s.state === 'COMPLETED')) return { kind: 'completed', steps };
      const cluster = await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }));
      const state = cluster.Cluster?.Status?.State ?? 'UNKNOWN';
      if (CLUSTER_DEAD.has(state)) {
        const sc = cluster.Cluster?.Status?.StateChangeReason;
        const reason = [sc?.Code, sc?.Message].filter(Boolean).join(': ') || undefined;
        return { kind: 'cluster-failed', state, reason, steps };
      }
      interval = changed ? options.pollMs : Math.min(Math.ceil(interval * 1.5), options.maxPollMs);
    } catch (error) {
      if (!isThrottling(error)) throw error;
      // Still throttled after the SDK's retries: poll less often.
      interval = Math.min(Math.max(interval * 2, 1_000), Math.max(options.maxPollMs, 1_000));
    }
    const left = options.deadline - now();
    if (left <= 0) return { kind: 'deadline', steps };
    await abortableSleep(Math.min(interval, left), options.signal);
  }
}
