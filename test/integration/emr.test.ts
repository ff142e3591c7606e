/**
 * EMR orchestration against the moto server: artifact uploads (content-hash keys, idempotent),
 * RunJobFlow → DescribeCluster / ListSteps, AddJobFlowSteps → DescribeStep on
 * an existing cluster, cancellation and TerminateJobFlows, and the requests sent equal the dry run.
 * moto's steps never progress (first RUNNING, rest PENDING): runs end at their deadline or by abort
 * here; the COMPLETED/FAILED branches are driven with SDK mocks (pipelines/emr/*.test.ts), except
 * the stderr fetch of a failed step, which reads a real gzipped log object from moto's S3 below.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  ListStepsCommand,
  RunJobFlowCommand,
} from '@aws-sdk/client-emr';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AwsClients, awsClients } from '../../core/aws.ts';
import { type Config, loadConfig } from '../../core/config.ts';
import { EmrCancelledError, EmrDeadlineError, EmrStepFailedError } from '../../pipelines/emr/errors.ts';
import { emrRunRequests, prepareEmrRun, runOnEmr } from '../../pipelines/emr/orchestrator.ts';
import { emrStepArgs } from '../../pipelines/emr/spark-submit.ts';
import { artifactOf, uploadArtifact } from '../../pipelines/s3/artifacts.ts';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('moto');

const bucket = `emr-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'emr-it-'));
const runnerFile = path.join(dir, 'runner.py');
writeFileSync(runnerFile, `# runner ${randomUUID()}\nprint("hello from the runner")\n`);
const plans = [{ job: 'cleanup', statements: ['select 1'] }];

function configWith(emr: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      lake: { root: `s3://${bucket}/lake` },
      aws: { bucket, prefix: 'df', endpoint: svc.env.AWS_ENDPOINT_URL, maxAttempts: 2 },
      emr: { pollMs: 20, maxPollMs: 50, ...emr },
      glue: { database: `emr_${bucket.slice(4)}` },
    },
  });
}

interface Sent {
  service: string;
  command: string;
  input: Record<string, unknown>;
}
type Handler = (args: { input: unknown }) => Promise<unknown>;
interface Recordable {
  middlewareStack: {
    add(
      mw: (next: Handler, context: { commandName?: string }) => Handler,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}
/** Records every request a client sends (service, command, input) — to compare with the dry run. */
function recordInto(clients: AwsClients, sent: Sent[]): void {
  const all: [string, Recordable][] = [
    ['s3', clients.s3 as unknown as Recordable],
    ['emr', clients.emr as unknown as Recordable],
    ['glue', clients.glue as unknown as Recordable],
  ];
  for (const [service, client] of all) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push({
          service,
          command: String(context.commandName).replace(/Command$/, ''),
          input: args.input as Record<string, unknown>,
        });
        return next(args);
      },
      { step: 'initialize', name: `recorder-${service}` },
    );
  }
}

let clients: AwsClients;

svc.describe('EMR orchestration on moto', () => {
  beforeAll(async () => {
    clients = awsClients(configWith());
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => clients?.destroy());

  it('uploads artifacts under content-hash keys, PUT only once', async () => {
    const a = artifactOf('plans.json', '{"a":1}\n');
    const first = await uploadArtifact(clients.s3, bucket, 'df', a);
    const again = await uploadArtifact(clients.s3, bucket, 'df', artifactOf('plans.json', '{"a":1}\n'));
    const other = await uploadArtifact(clients.s3, bucket, 'df', artifactOf('plans.json', '{"a":2}\n'));
    expect(first).toEqual({
      uploaded: true,
      key: `df/artifacts/${a.sha256}/plans.json`,
      uri: `s3://${bucket}/df/artifacts/${a.sha256}/plans.json`,
    });
    expect(a.sha256).toBe(createHash('sha256').update('{"a":1}\n').digest('hex'));
    expect(again).toEqual({ ...first, uploaded: false });
    expect(other.uploaded).toBe(true);
    expect(other.key).not.toBe(first.key);
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: first.key }));
    expect(await got.Body?.transformToString()).toBe('{"a":1}\n');
    expect(got.ContentType).toBe('application/json');
    expect(got.Metadata).toEqual({ sha256: a.sha256 });
  });

  it('transient cluster: RunJobFlow as configured, steps in order; the deadline cancels and terminates it', async () => {
    const config = configWith({ deadlineMinutes: 0.01 }); // 600 ms: moto's steps never finish
    const sent: Sent[] = [];
    const c = awsClients(config);
    recordInto(c, sent);
    const states: string[] = [];
    const started = performance.now();
    const error = await runOnEmr(c, {
      config,
      runId: 'run-t1',
      date: '2026-01-02',
      runnerFile,
      plans,
      onStep: (job, s) => states.push(`${job}=${s.state}`),
    }).catch((e: unknown) => e);
    const ms = performance.now() - started;
    expect(error).toBeInstanceOf(EmrDeadlineError);
    expect(states).toEqual([
      'cleanup=RUNNING',
      'enrichment=PENDING',
      'price_trends=PENDING',
      'features=PENDING',
    ]);

    const clusterId = sent.find((s) => s.command === 'TerminateJobFlows')?.input.JobFlowIds as string[];
    expect(clusterId).toHaveLength(1);
    // CancelSteps was tried for the unfinished steps (moto lacks it: logged, then terminated anyway)
    expect(
      sent.filter((r) => r.command === 'CancelSteps').map((r) => (r.input.StepIds as string[]).length),
    ).toEqual([4]);
    const cluster = (await c.emr.send(new DescribeClusterCommand({ ClusterId: clusterId[0] }))).Cluster!;
    expect(cluster.Status?.State).toBe('TERMINATED');
    expect(cluster.ReleaseLabel).toBe('emr-7.5.0');
    expect(cluster.LogUri).toBe(`s3://${bucket}/df/emr-logs/`);
    expect(cluster.Applications?.map((a) => a.Name)).toEqual(['Spark']);
    expect(cluster.AutoTerminate).toBe(true);
    expect(cluster.Tags).toContainEqual({ Key: 'dealfinder:run-id', Value: 'run-t1' });
    // moto accepts the fleets but cannot show them (ListInstanceFleets answers HTTP 500 with an HTML
    // page); the accepted input is compared with the dry run below, and its shape in spark-submit.test.ts.
    const sentInstances = sent.find((r) => r.command === 'RunJobFlow')?.input.Instances as {
      InstanceFleets: { InstanceFleetType: string; TargetSpotCapacity?: number }[];
    };
    expect(sentInstances.InstanceFleets.map((f) => [f.InstanceFleetType, f.TargetSpotCapacity ?? 0])).toEqual(
      [
        ['MASTER', 0],
        ['CORE', 0],
        ['TASK', 4],
      ],
    );
    const steps = (await c.emr.send(new ListStepsCommand({ ClusterId: clusterId[0] }))).Steps ?? [];
    expect(steps.map((s) => s.Name).reverse()).toEqual([
      'cleanup [run-t1]',
      'enrichment [run-t1]',
      'price_trends [run-t1]',
      'features [run-t1]',
    ]);
    const prepared = await prepareEmrRun({ config, runId: 'run-t1', date: '2026-01-02', runnerFile, plans });
    const last = steps[0]!;
    expect(last.Config?.Args).toEqual(
      emrStepArgs({
        runner: prepared.spec.runnerUri,
        plans: prepared.spec.plansUri,
        job: 'features',
        result: `s3://${bucket}/df/runs/run-t1/results/features.json`,
        deployMode: config.emr.deployMode,
        conf: {},
      }),
    );
    expect(last.ActionOnFailure).toBe('TERMINATE_CLUSTER');
    // The runner really is where the step reads it from.
    const runnerKey = prepared.spec.runnerUri.replace(`s3://${bucket}/`, '');
    const body = await (
      await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: runnerKey }))
    ).Body?.transformToString();
    expect(body).toContain('hello from the runner');

    // Every unconditional request of the dry run was sent with exactly that input (bodies aside).
    const dry = emrRunRequests(config, prepared);
    const strip = (r: { input: Record<string, unknown> }) => ({ ...r.input, Body: undefined });
    for (const command of [
      'RunJobFlow',
      'PutObject',
      'HeadObject',
      'GetDatabase',
      'CreateDatabase',
      'CreateTable',
    ]) {
      const want = dry.filter((r) => r.command === command).map(strip);
      const got = sent.filter((r) => r.command === command).map(strip);
      expect({ command, got }).toEqual({ command, got: want });
    }
    console.log(
      `[emr] transient run on moto: submit → deadline → cancel + terminate in ${ms.toFixed(0)} ms; ${sent.length} requests`,
    );
    c.destroy();
  });

  it('existing cluster: AddJobFlowSteps → DescribeStep; Ctrl-C cancels the run but keeps the cluster', async () => {
    const emr = new EMRClient({ endpoint: svc.env.AWS_ENDPOINT_URL, region: 'us-east-1' });
    const shared = await emr.send(
      new RunJobFlowCommand({
        Name: 'shared',
        ReleaseLabel: 'emr-7.5.0',
        Applications: [{ Name: 'Spark' }],
        Instances: { MasterInstanceType: 'm5.xlarge', InstanceCount: 1, KeepJobFlowAliveWhenNoSteps: true },
        JobFlowRole: 'EMR_EC2_DefaultRole',
        ServiceRole: 'EMR_DefaultRole',
      }),
    );
    const clusterId = shared.JobFlowId!;
    const config = configWith({ existingClusterId: clusterId, pollMs: 50 });
    const ac = new AbortController();
    const ids: string[] = [];
    const error = await runOnEmr(clients, {
      config,
      runId: 'run-e1',
      date: '2026-01-03',
      jobs: ['cleanup', 'enrichment'],
      runnerFile,
      plans,
      signal: ac.signal,
      onStep: (_job, s) => {
        ids.push(s.id);
        if (ids.length === 2) setTimeout(() => ac.abort(), 100);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmrCancelledError);
    const step = (await emr.send(new DescribeStepCommand({ ClusterId: clusterId, StepId: ids[1]! }))).Step!;
    expect(step.Name).toBe('enrichment [run-e1]');
    expect(step.ActionOnFailure).toBe('CANCEL_AND_WAIT');
    expect(step.Config?.Jar).toBe('command-runner.jar');
    expect(step.Config?.Args?.slice(-4)).toEqual([
      '--job',
      'enrichment',
      '--result',
      `s3://${bucket}/df/runs/run-e1/results/enrichment.json`,
    ]);
    // moto has no CancelSteps (logged and tolerated); the shared cluster is left running.
    const state = (await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster?.Status
      ?.State;
    expect(['WAITING', 'RUNNING']).toContain(state);
    emr.destroy();
  });

  it('failed step: the stderr tail comes from the gzipped log object in S3 (EMR mocked, S3 real)', async () => {
    const config = configWith({ stderrTailLines: 3 });
    const c = awsClients(config);
    const emrMock = mockClient(c.emr); // this client instance only
    emrMock.on(RunJobFlowCommand).resolves({ JobFlowId: 'j-FAKE1' });
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce({ Steps: [{ Id: 's-F1', Name: 'cleanup [run-f1]', Status: { State: 'PENDING' } }] })
      .resolves({
        Steps: [
          {
            Id: 's-F1',
            Name: 'cleanup [run-f1]',
            Status: { State: 'FAILED', FailureDetails: { Reason: 'Unknown Error' } },
          },
        ],
      });
    const lines = Array.from({ length: 500 }, (_, i) => `INFO line ${i}`);
    lines.push(
      'Traceback (most recent call last):',
      'pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]',
    );
    await c.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'df/emr-logs/j-FAKE1/steps/s-F1/stderr.gz',
        Body: gzipSync(`${lines.join('\n')}\n`),
      }),
    );
    const error = await runOnEmr(c, {
      config,
      runId: 'run-f1',
      date: '2026-01-04',
      jobs: ['cleanup'],
      runnerFile,
      plans,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmrStepFailedError);
    const message = (error as Error).message;
    expect(message.split('\n').slice(-4)).toEqual([
      `--- tail of s3://${bucket}/df/emr-logs/j-FAKE1/steps/s-F1/stderr.gz ---`,
      'INFO line 499',
      'Traceback (most recent call last):',
      'pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]',
    ]);
    emrMock.restore();
    c.destroy();
  });
});
