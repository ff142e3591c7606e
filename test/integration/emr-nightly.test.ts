/**
 * `dealctl nightly --engine emr` against the moto server: --dry-run makes no call and lists the
 * requests; a run creates the transient cluster, uploads runner + plans under content-hash keys,
 * creates the Glue tables and submits the four steps in dependency order, recorded in the run
 * ledger. moto's steps never progress, so the runs here are bounded: --no-wait returns after
 * submission; --deadline on an existing cluster (--cluster-id) stops waiting, and the ledger shows
 * the steps failed for that reason. The poll-to-completion path: pipelines/emr/nightly.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeClusterCommand,
  DescribeStepCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import { GetTablesCommand } from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type AwsClients, awsClients } from '../../core/aws.ts';
import { loadConfig } from '../../core/config.ts';
import { Lake } from '../../core/lake.ts';
import { SPARK_RUNNER } from '../../jobs/engines/spark/index.ts';
import { Ledger } from '../../pipelines/ledger.ts';
import { servicesFor } from '../services/index.js';
import { runCli } from '../support/cli.ts';

const svc = await servicesFor('moto');

const bucket = `nightly-${randomUUID().slice(0, 8)}`;
const database = `n_${bucket.slice(8)}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'emr-nightly-it-'));
const meta = path.join(dir, 'meta');
const configFile = path.join(dir, 'dealfinder.config.json');
const DATE = '2026-11-22';
const JOBS = ['cleanup', 'enrichment', 'price_trends', 'features'];
let clients: AwsClients;

function config() {
  return loadConfig({ file: configFile, env: {} });
}

/** `dealctl nightly --engine emr` with the moto config, quiet, plus the given flags. */
const nightlyOnEmr = (flags: string[]) =>
  runCli(['--config', configFile, '--log-level', 'silent', 'nightly', '--engine', 'emr', ...flags]);

svc.describe('dealctl nightly --engine emr on moto', () => {
  beforeAll(async () => {
    writeFileSync(
      configFile,
      JSON.stringify({
        lake: { root: `s3://${bucket}/lake`, metaRoot: meta },
        aws: { bucket, prefix: 'df', endpoint: svc.env.AWS_ENDPOINT_URL, maxAttempts: 2 },
        emr: { pollMs: 20, maxPollMs: 50 },
        glue: { database },
      }),
    );
    clients = awsClients(config());
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(() => {
    clients?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run prints the exact requests as JSON and makes no call', async () => {
    const r = await nightlyOnEmr(['--dry-run', '--date', DATE]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const requests = JSON.parse(r.out) as {
      service: string;
      command: string;
      input: Record<string, unknown>;
      when?: string;
    }[];
    const run = requests.find((q) => q.command === 'RunJobFlow')!;
    const steps = run.input.Steps as { Name: string; HadoopJarStep: { Args: string[] } }[];
    expect(steps.map((s) => s.Name.replace(/ \[.*\]$/, ''))).toEqual(JOBS);
    expect(steps[0]!.HadoopJarStep.Args.slice(0, 3)).toEqual(['spark-submit', '--deploy-mode', 'client']);
    const puts = requests.filter((q) => q.command === 'PutObject').map((q) => q.input.Key as string);
    const runnerSha = createHash('sha256').update(readFileSync(SPARK_RUNNER)).digest('hex');
    expect(puts).toEqual([
      `df/artifacts/${runnerSha}/runner.py`,
      expect.stringMatching(/^df\/artifacts\/[0-9a-f]{64}\/plans\.json$/),
    ]);
    expect(
      requests.filter((q) => q.command === 'BatchCreatePartition').map((q) => q.input.TableName),
    ).toEqual(['deals', 'quarantine', 'enriched_deals', 'price_trends', 'price_daily', 'features']);
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.KeyCount ?? 0).toBe(0);
    expect(new Ledger(new Lake(config().lake.root, { metaRoot: meta })).events()).toEqual([]);
  });

  it('--no-wait: transient cluster, content-hash uploads, Glue tables, 4 steps in order, ledger records them', async () => {
    const r = await nightlyOnEmr(['--no-wait', '--json', '--date', DATE]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out) as {
      runId: string;
      state: string;
      clusterId: string;
      stepIds: Record<string, string>;
      steps: { step: string; status: string; engine: string; message: string }[];
    };
    expect(summary.state).toBe('submitted');
    expect(summary.clusterId).toMatch(/^j-[A-Z0-9]+$/);
    const cluster = (await clients.emr.send(new DescribeClusterCommand({ ClusterId: summary.clusterId })))
      .Cluster!;
    expect(cluster.Name).toBe(`deal-finder-nightly ${DATE} [${summary.runId}]`);
    expect(cluster.Tags).toContainEqual({ Key: 'dealfinder:run-id', Value: summary.runId });
    const steps =
      (await clients.emr.send(new ListStepsCommand({ ClusterId: summary.clusterId }))).Steps ?? [];
    expect(steps.map((s) => s.Name).reverse()).toEqual(JOBS.map((j) => `${j} [${summary.runId}]`));
    expect(Object.keys(summary.stepIds)).toEqual(JOBS);
    for (const job of JOBS) {
      const step = (
        await clients.emr.send(
          new DescribeStepCommand({ ClusterId: summary.clusterId, StepId: summary.stepIds[job]! }),
        )
      ).Step!;
      expect(step.Name).toBe(`${job} [${summary.runId}]`);
      expect(step.Config?.Args?.slice(-4)).toEqual([
        '--job',
        job,
        '--result',
        `s3://${bucket}/df/runs/${summary.runId}/results/${job}.json`,
      ]);
    }
    // Uploaded under content-hash keys: the runner byte for byte; the plans with runtime inputs.
    const args = steps.at(-1)!.Config!.Args!;
    const runnerUri = args.find((a) => a.endsWith('/runner.py'))!;
    const plansUri = args[args.indexOf('--plans') + 1]!;
    const get = async (uri: string) =>
      Buffer.from(
        (await (
          await clients.s3.send(
            new GetObjectCommand({ Bucket: bucket, Key: uri.replace(`s3://${bucket}/`, '') }),
          )
        ).Body?.transformToByteArray()) ?? [],
      );
    const runner = await get(runnerUri);
    expect(runner.equals(readFileSync(SPARK_RUNNER))).toBe(true);
    expect(runnerUri).toContain(`/artifacts/${createHash('sha256').update(runner).digest('hex')}/`);
    const plansBody = await get(plansUri);
    expect(plansUri).toContain(`/artifacts/${createHash('sha256').update(plansBody).digest('hex')}/`);
    const plans = JSON.parse(plansBody.toString('utf8')) as {
      job: string;
      inputs: { locations: string[] }[];
    }[];
    expect(plans.map((p) => p.job)).toEqual(JOBS);
    expect(plans[3]!.inputs[0]!.locations).toEqual([`s3://${bucket}/lake/enriched_deals/dt=${DATE}/`]);
    const tables =
      (await clients.glue.send(new GetTablesCommand({ DatabaseName: database }))).TableList ?? [];
    expect(tables.map((t) => t.Name).sort()).toEqual(
      [
        'deals',
        'enriched_deals',
        'features',
        'price_daily',
        'price_trends',
        'products',
        'quarantine',
        'raw_deals',
      ].sort(),
    );
    // The run ledger (local metaRoot of the s3:// lake): each step submitted, running, engine emr.
    const ledger = new Ledger(new Lake(config().lake.root, { metaRoot: meta }));
    const latest = ledger.latestByStep(summary.runId);
    expect(JOBS.map((j) => latest.find((e) => e.step === j))).toEqual(
      JOBS.map((j) =>
        expect.objectContaining({
          engine: 'emr',
          status: 'running',
          message: `submitted as EMR step ${summary.stepIds[j]} on ${summary.clusterId}`,
        }),
      ),
    );
    expect(ledger.runs().find((x) => x.runId === summary.runId)?.status).toBe('incomplete');
    await clients.emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [summary.clusterId] }));
  });

  it('--cluster-id + --deadline: steps added to the running cluster; the deadline fails the run in the ledger, cluster kept', async () => {
    const shared = await clients.emr.send(
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
    const started = performance.now();
    const r = await nightlyOnEmr([
      '--cluster-id',
      clusterId,
      '--deadline',
      '0.01',
      '--only',
      'enrichment',
      'cleanup',
      '--json',
      '--date',
      DATE,
    ]);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.out) as {
      runId: string;
      clusterId: string;
      error: { code: string };
      steps: { step: string; status: string; message: string }[];
    };
    expect(summary.clusterId).toBe(clusterId);
    expect(summary.error.code).toBe('emr-deadline');
    expect(summary.steps.map((s) => [s.step, s.status])).toEqual([
      ['cleanup', 'failed'],
      ['enrichment', 'failed'],
    ]);
    expect(summary.steps[0]!.message).toMatch(
      /^not completed: EMR steps on j-[A-Z0-9]+ not finished within 0 min/,
    );
    const steps = (await clients.emr.send(new ListStepsCommand({ ClusterId: clusterId }))).Steps ?? [];
    expect(steps.map((s) => [s.Name, s.ActionOnFailure]).reverse()).toEqual([
      [`cleanup [${summary.runId}]`, 'CANCEL_AND_WAIT'],
      [`enrichment [${summary.runId}]`, 'CANCEL_AND_WAIT'],
    ]);
    const state = (await clients.emr.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster
      ?.Status?.State;
    expect(['WAITING', 'RUNNING']).toContain(state);
  });

  it('rejects EMR flags with a local engine, and a local lake with --engine emr', async () => {
    const r = await runCli([
      '--log-level',
      'silent',
      'nightly',
      '--engine',
      'duckdb',
      '--no-wait',
      '--date',
      DATE,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--no-wait needs --engine emr');
    const local = await runCli([
      '--config',
      configFile,
      '--lake',
      dir,
      '--log-level',
      'silent',
      'nightly',
      '--engine',
      'emr',
      '--dry-run',
      '--date',
      DATE,
    ]);
    expect(local.code).not.toBe(0);
    expect(local.err).toContain('the EMR engine needs the lake on S3');
  });
});
