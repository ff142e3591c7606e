/**
 * runOnEmr's branches with every AWS client mocked in-process: success (partitions registered),
 * step failure (stderr tail, transient cluster terminated), abort (steps cancelled, cluster
 * terminated), existing cluster (AddJobFlowSteps, never terminated). Against moto: test/integration/emr.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  type StepState,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import { BatchCreatePartitionCommand } from '@aws-sdk/client-glue';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { mockedAws } from '../../test/support/mocked-aws.ts';
import { EmrCancelledError, EmrStepFailedError } from './errors.ts';
import { emrRunRequests, prepareEmrRun, runOnEmr } from './orchestrator.ts';

const { clients, s3Mock, emrMock, glueMock, reset } = mockedAws('j-T');

const dir = mkdtempSync(path.join(os.tmpdir(), 'emr-orch-'));
const runnerFile = path.join(dir, 'runner.py');
writeFileSync(runnerFile, 'print("runner")\n');

function configWith(emrOverrides: Record<string, unknown> = {}) {
  return loadConfig({
    env: {},
    overrides: {
      lake: { root: 's3://lake-bkt/lake' },
      aws: { bucket: 'lake-bkt', prefix: 'df' },
      emr: { pollMs: 1, maxPollMs: 5, ...emrOverrides },
    },
  });
}

const JOBS = ['cleanup', 'enrichment'];
function listed(a: StepState, b: StepState) {
  return {
    Steps: [
      { Id: 's-2', Name: 'enrichment [r1]', Status: { State: b } },
      { Id: 's-1', Name: 'cleanup [r1]', Status: { State: a } },
    ],
  };
}

beforeEach(reset);

const base = { runId: 'r1', date: '2026-01-02', jobs: JOBS, runnerFile, plans: [{ job: 'cleanup' }] };

describe('runOnEmr (mocked AWS)', () => {
  it('success: uploads, catalog, RunJobFlow, poll to COMPLETED, partitions; sends what the dry run lists', async () => {
    const config = configWith();
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce(listed('PENDING', 'PENDING')) // step-id lookup
      .resolvesOnce(listed('RUNNING', 'PENDING'))
      .resolves(listed('COMPLETED', 'COMPLETED'));
    const seen: string[] = [];
    const result = await runOnEmr(clients, {
      ...base,
      config,
      onStep: (job, s) => seen.push(`${job}=${s.state}`),
    });
    expect(result.clusterId).toBe('j-T');
    expect(result.transient).toBe(true);
    expect(seen).toEqual([
      'cleanup=RUNNING',
      'enrichment=PENDING',
      'cleanup=COMPLETED',
      'enrichment=COMPLETED',
    ]);
    expect(emrMock.commandCalls(TerminateJobFlowsCommand)).toHaveLength(0); // it terminates itself
    // deals, quarantine(step=cleanup), enriched_deals
    const parts = glueMock
      .commandCalls(BatchCreatePartitionCommand)
      .map((c) => [
        c.args[0].input.TableName,
        c.args[0].input.PartitionInputList?.map((p) => p.StorageDescriptor?.Location),
      ]);
    expect(parts).toEqual([
      ['deals', ['s3://lake-bkt/lake/deals/dt=2026-01-02/']],
      ['quarantine', ['s3://lake-bkt/lake/quarantine/dt=2026-01-02/step=cleanup/']],
      ['enriched_deals', ['s3://lake-bkt/lake/enriched_deals/dt=2026-01-02/']],
    ]);
    const dry = emrRunRequests(config, await prepareEmrRun({ ...base, config }));
    const runJobFlow = dry.find((r) => r.command === 'RunJobFlow')!;
    expect(emrMock.commandCalls(RunJobFlowCommand)[0]!.args[0].input).toEqual(runJobFlow.input);
    const puts = dry.filter((r) => r.command === 'PutObject').map((r) => ({ ...r.input, Body: undefined }));
    expect(
      s3Mock.commandCalls(PutObjectCommand).map((c) => ({ ...c.args[0].input, Body: undefined })),
    ).toEqual(puts);
    expect(JSON.parse(JSON.stringify(dry))).toEqual(dry);
  });

  it('step failure: stderr tail from the log URI, transient cluster terminated, typed error', async () => {
    const config = configWith({ stderrTailLines: 2 });
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce(listed('PENDING', 'PENDING'))
      .resolves({
        Steps: [
          { Id: 's-2', Name: 'enrichment [r1]', Status: { State: 'CANCELLED' } },
          {
            Id: 's-1',
            Name: 'cleanup [r1]',
            Status: { State: 'FAILED', FailureDetails: { Reason: 'Unknown Error' } },
          },
        ],
      });
    const log = gzipSync('line 1\nline 2\nTraceback\nAnalysisException: boom\n');
    s3Mock
      .on(GetObjectCommand, { Bucket: 'lake-bkt', Key: 'df/emr-logs/j-T/steps/s-1/stderr.gz' })
      .resolves({ Body: { transformToByteArray: async () => new Uint8Array(log) } as never });
    const error = await runOnEmr(clients, { ...base, config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmrStepFailedError);
    const e = error as EmrStepFailedError;
    expect(e.message).toContain('EMR step cleanup (s-1) on j-T ended FAILED: Unknown Error');
    expect(e.message).toMatch(
      /--- tail of s3:\/\/lake-bkt\/df\/emr-logs\/j-T\/steps\/s-1\/stderr\.gz ---\nTraceback\nAnalysisException: boom$/,
    );
    expect(emrMock.commandCalls(TerminateJobFlowsCommand)[0]!.args[0].input).toEqual({ JobFlowIds: ['j-T'] });
    expect(glueMock.commandCalls(BatchCreatePartitionCommand)).toHaveLength(0);
  });

  it('abort: unfinished steps cancelled and the transient cluster terminated', async () => {
    const config = configWith({ pollMs: 20, maxPollMs: 20 });
    emrMock.on(ListStepsCommand).resolves(listed('RUNNING', 'PENDING'));
    const ac = new AbortController();
    const error = await runOnEmr(clients, {
      ...base,
      config,
      signal: ac.signal,
      onStep: (_job, s) => {
        if (s.state === 'RUNNING') setTimeout(() => ac.abort(), 30);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmrCancelledError);
    expect(emrMock.commandCalls(CancelStepsCommand)[0]!.args[0].input).toEqual({
      ClusterId: 'j-T',
      StepIds: ['s-1', 's-2'],
      StepCancellationOption: 'SEND_INTERRUPT',
    });
    expect(emrMock.commandCalls(TerminateJobFlowsCommand)).toHaveLength(1);
  });

  it('existing cluster: AddJobFlowSteps, and a deadline cancels steps but never terminates the cluster', async () => {
    const config = configWith({ existingClusterId: 'j-SHARED', deadlineMinutes: 0.002 });
    emrMock.on(AddJobFlowStepsCommand).resolves({ StepIds: ['s-1', 's-2'] });
    emrMock.on(ListStepsCommand).resolves(listed('RUNNING', 'PENDING'));
    const error = await runOnEmr(clients, { ...base, config }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /not finished within 0 min \(cleanup \[r1\]=RUNNING, enrichment \[r1\]=PENDING\)/,
    );
    expect(emrMock.commandCalls(RunJobFlowCommand)).toHaveLength(0);
    expect(
      emrMock.commandCalls(AddJobFlowStepsCommand)[0]!.args[0].input.Steps?.map((s) => s.ActionOnFailure),
    ).toEqual(['CANCEL_AND_WAIT', 'CANCEL_AND_WAIT']);
    expect(emrMock.commandCalls(CancelStepsCommand)).toHaveLength(1);
    expect(emrMock.commandCalls(TerminateJobFlowsCommand)).toHaveLength(0);
  });

  it('refuses a local lake root before any AWS call', async () => {
    const config = loadConfig({ env: {}, overrides: { lake: { root: '/tmp/lake' } } });
    await expect(runOnEmr(clients, { ...base, config })).rejects.toThrow(/needs the lake on S3/);
    expect(s3Mock.calls()).toHaveLength(0);
  });
});
