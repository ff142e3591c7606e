/**
 * The step-polling state machine against in-process SDK mocks (moto's EMR steps never leave
 * PENDING/RUNNING, so the transitions can only be driven this way).
 */
import { DescribeClusterCommand, EMRClient, ListStepsCommand, type StepState } from '@aws-sdk/client-emr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type StepStatus, waitForSteps } from './poller.ts';

const emr = new EMRClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const mock = mockClient(emr);
afterEach(() => mock.reset());

const ids = ['s-A', 's-B'];
function steps(a: StepState, b: StepState, failure?: { Reason: string; LogFile: string }) {
  return {
    Steps: [
      { Id: 's-B', Name: 'b', Status: { State: b } },
      { Id: 's-A', Name: 'a', Status: { State: a, ...(failure ? { FailureDetails: failure } : {}) } },
    ],
  };
}
const alive = { Cluster: { Id: 'j-1', Status: { State: 'RUNNING' as const } } };
const fast = { pollMs: 1, maxPollMs: 5 };

describe('waitForSteps', () => {
  it('follows PENDING → RUNNING → COMPLETED, reporting each change once', async () => {
    mock
      .on(ListStepsCommand)
      .resolvesOnce(steps('PENDING', 'PENDING'))
      .resolvesOnce(steps('RUNNING', 'PENDING'))
      .resolvesOnce(steps('RUNNING', 'PENDING'))
      .resolvesOnce(steps('COMPLETED', 'RUNNING'))
      .resolves(steps('COMPLETED', 'COMPLETED'));
    mock.on(DescribeClusterCommand).resolves(alive);
    const changes: string[] = [];
    const outcome = await waitForSteps(emr, 'j-1', ids, {
      ...fast,
      deadline: Date.now() + 10_000,
      onChange: (s: StepStatus, prev) => changes.push(`${s.name}:${prev ?? '-'}→${s.state}`),
    });
    expect(outcome.kind).toBe('completed');
    expect(changes).toEqual([
      'a:-→PENDING',
      'b:-→PENDING',
      'a:PENDING→RUNNING',
      'a:RUNNING→COMPLETED',
      'b:PENDING→RUNNING',
      'b:RUNNING→COMPLETED',
    ]);
    expect(mock.commandCalls(ListStepsCommand)).toHaveLength(5);
    expect(mock.commandCalls(ListStepsCommand)[0]!.args[0].input).toEqual({
      ClusterId: 'j-1',
      StepIds: ids,
      Marker: undefined,
    });
  });

  it('stops at the first FAILED step with its failure details', async () => {
    mock
      .on(ListStepsCommand)
      .resolvesOnce(steps('RUNNING', 'PENDING'))
      .resolves(
        steps('FAILED', 'CANCELLED', { Reason: 'Step failed', LogFile: 's3://l/j-1/steps/s-A/stderr.gz' }),
      );
    mock.on(DescribeClusterCommand).resolves(alive);
    const outcome = await waitForSteps(emr, 'j-1', ids, { ...fast, deadline: Date.now() + 10_000 });
    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.step).toMatchObject({ id: 's-A', state: 'FAILED', failure: { reason: 'Step failed' } });
  });

  it('reports INTERRUPTED as a failure and CANCELLED as cancelled', async () => {
    mock.on(ListStepsCommand).resolves(steps('INTERRUPTED', 'PENDING'));
    const interrupted = await waitForSteps(emr, 'j-1', ids, { ...fast, deadline: Date.now() + 10_000 });
    expect(interrupted).toMatchObject({ kind: 'failed', step: { state: 'INTERRUPTED' } });
    mock.reset();
    mock.on(ListStepsCommand).resolves(steps('COMPLETED', 'CANCELLED'));
    const cancelled = await waitForSteps(emr, 'j-1', ids, { ...fast, deadline: Date.now() + 10_000 });
    expect(cancelled).toMatchObject({ kind: 'cancelled', step: { id: 's-B', state: 'CANCELLED' } });
  });

  it('detects a cluster that died under PENDING steps (TERMINATED_WITH_ERRORS)', async () => {
    mock.on(ListStepsCommand).resolves(steps('RUNNING', 'PENDING'));
    mock
      .on(DescribeClusterCommand)
      .resolvesOnce(alive)
      .resolves({
        Cluster: {
          Id: 'j-1',
          Status: {
            State: 'TERMINATED_WITH_ERRORS',
            StateChangeReason: { Code: 'INSTANCE_FLEET_TIMEOUT', Message: 'no Spot capacity' },
          },
        },
      });
    const outcome = await waitForSteps(emr, 'j-1', ids, { ...fast, deadline: Date.now() + 10_000 });
    expect(outcome).toMatchObject({
      kind: 'cluster-failed',
      state: 'TERMINATED_WITH_ERRORS',
      reason: 'INSTANCE_FLEET_TIMEOUT: no Spot capacity',
    });
  });

  it('keeps polling through throttling that outlived the SDK retries', async () => {
    // what the SDK throws once its own retries are spent (EMR models no exception class for it)
    const throttled = () =>
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    mock
      .on(ListStepsCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves(steps('COMPLETED', 'COMPLETED'));
    const started = Date.now();
    const outcome = await waitForSteps(emr, 'j-1', ids, { ...fast, deadline: Date.now() + 20_000 });
    expect(outcome.kind).toBe('completed');
    expect(mock.commandCalls(ListStepsCommand)).toHaveLength(3);
    // backed off to at least 1 s per throttled poll although pollMs is 1 ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_990);
  });

  it('does not swallow other errors', async () => {
    mock
      .on(ListStepsCommand)
      .rejects(Object.assign(new Error('no such cluster'), { name: 'InvalidRequestException' }));
    await expect(waitForSteps(emr, 'j-1', ids, { ...fast, deadline: Date.now() + 1_000 })).rejects.toThrow(
      'no such cluster',
    );
  });

  it('gives up at the deadline, with the last states, with growing intervals', async () => {
    mock.on(ListStepsCommand).resolves(steps('RUNNING', 'PENDING'));
    mock.on(DescribeClusterCommand).resolves(alive);
    const started = Date.now();
    const outcome = await waitForSteps(emr, 'j-1', ids, {
      pollMs: 10,
      maxPollMs: 80,
      deadline: started + 400,
    });
    const took = Date.now() - started;
    expect(outcome).toMatchObject({ kind: 'deadline', steps: [{ state: 'RUNNING' }, { state: 'PENDING' }] });
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(2_000);
    // 10, 15, 23, 35, 53, 80, 80… → far fewer polls than 400/10
    const polls = mock.commandCalls(ListStepsCommand).length;
    expect(polls).toBeGreaterThan(4);
    expect(polls).toBeLessThan(15);
  });

  it('stops at once when aborted', async () => {
    mock.on(ListStepsCommand).resolves(steps('RUNNING', 'PENDING'));
    mock.on(DescribeClusterCommand).resolves(alive);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    await expect(
      waitForSteps(emr, 'j-1', ids, {
        pollMs: 10_000,
        maxPollMs: 10_000,
        deadline: Date.now() + 60_000,
        signal: ac.signal,
      }),
    ).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
