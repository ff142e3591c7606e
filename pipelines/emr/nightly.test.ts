/**
 * The nightly DAG on EMR with every AWS client mocked in-process (moto's steps never progress):
 * poll to COMPLETED → ledger succeeded with the runner's counts and DQ + Glue partitions;
 * a FAILED step → its stderr tail in the run's error, the run failed, later steps cancelled
 * (recorded failed), no partitions. Against moto: test/integration/emr-nightly.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CancelStepsCommand,
  DescribeClusterCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  type StepState,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import { BatchCreatePartitionCommand } from '@aws-sdk/client-glue';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { Lake, TABLES, type TableName } from '../../core/lake.ts';
import { createLogger } from '../../core/logging.ts';
import { runCli } from '../../test/support/cli.ts';
import { mockedAws } from '../../test/support/mocked-aws.ts';
import { Ledger } from '../ledger.ts';
import { EmrStepFailedError, EmrStepResultError } from './errors.ts';
import { runNightlyOnEmr } from './nightly.ts';

const { clients, s3Mock, emrMock, glueMock, reset } = mockedAws('j-N');
const meta = mkdtempSync(path.join(os.tmpdir(), 'emr-nightly-'));
afterAll(() => rmSync(meta, { recursive: true, force: true }));

const DATE = '2026-11-22';
const JOBS = ['cleanup', 'enrichment', 'price_trends', 'features'];
const config = loadConfig({
  env: {},
  overrides: {
    lake: { root: 's3://lake-bkt/lake', metaRoot: meta },
    aws: { bucket: 'lake-bkt', prefix: 'df' },
    emr: { pollMs: 1, maxPollMs: 5 },
  },
});
const lake = new Lake(config.lake.root, { metaRoot: config.lake.metaRoot });
const log = createLogger({}, 'silent');

function listed(runId: string, states: StepState[]) {
  return {
    Steps: JOBS.map((job, i) => ({
      Id: `s-${i + 1}`,
      Name: `${job} [${runId}]`,
      Status: {
        State: states[i]!,
        ...(states[i] === 'FAILED' ? { FailureDetails: { Reason: 'Unknown Error' } } : {}),
      },
    })).reverse(),
  };
}

/** A runner result whose DQ metrics pass: every required column complete, every row valid. */
function output(table: TableName, rows: number) {
  const dq: Record<string, number> = { row_count: rows, valid_rows: rows };
  for (const [name, spec] of Object.entries(TABLES[table].record.fields))
    if (!spec.nullable) dq[`nn__${name}`] = rows;
  return {
    rows,
    files: [`s3://lake-bkt/lake/${TABLES[table].path}/dt=${DATE}/part-00000.snappy.parquet`],
    dq,
  };
}
const RESULTS: Record<string, object> = {
  cleanup: {
    outputs: {
      deals: output('deals', 8),
      // The runner counts quarantined rows by reason where it wrote them (jobs/spark/runner.py).
      quarantine: { ...output('quarantine', 2), byCode: { missing_price: 1, unparseable_price: 1 } },
    },
    metrics: { rows_in: 11, deduplicated: 1, filtered: 0 },
  },
  enrichment: {
    outputs: { enriched_deals: output('enriched_deals', 8) },
    metrics: { rows_in: 8, deduplicated: 0, filtered: 0 },
  },
  price_trends: {
    outputs: { price_trends: output('price_trends', 5), price_daily: output('price_daily', 4) },
    metrics: { rows_in: 8, deduplicated: 0, filtered: 0 },
  },
  features: {
    outputs: { features: output('features', 7) },
    metrics: { rows_in: 8, deduplicated: 0, filtered: 1 },
  },
};

beforeEach(reset);

function resultsFor(runId: string) {
  for (const [job, item] of Object.entries(RESULTS)) {
    const body = JSON.stringify({ items: [{ job, ok: true, durationMs: 1234, ...item }] });
    s3Mock
      .on(GetObjectCommand, { Bucket: 'lake-bkt', Key: `df/runs/${runId}/results/${job}.json` })
      .resolves({ Body: { transformToString: async () => body } as never });
  }
}

describe('runNightlyOnEmr (mocked AWS)', () => {
  it('COMPLETED: the ledger records each step running then succeeded with the runner’s counts; Glue partitions added', async () => {
    const runId = `${DATE}_ok`;
    resultsFor(runId);
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce(listed(runId, ['PENDING', 'PENDING', 'PENDING', 'PENDING'])) // step ids by name
      .resolvesOnce(listed(runId, ['RUNNING', 'PENDING', 'PENDING', 'PENDING']))
      .resolvesOnce(listed(runId, ['COMPLETED', 'RUNNING', 'PENDING', 'PENDING']))
      .resolvesOnce(listed(runId, ['COMPLETED', 'COMPLETED', 'RUNNING', 'PENDING']))
      .resolves(listed(runId, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']));
    const summary = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, runId });
    expect(summary.error?.message).toBeUndefined();
    expect(summary).toMatchObject({
      status: 'succeeded',
      state: 'succeeded',
      engine: 'emr',
      clusterId: 'j-N',
    });
    expect(summary.stepIds).toEqual({
      cleanup: 's-1',
      enrichment: 's-2',
      price_trends: 's-3',
      features: 's-4',
    });
    expect(
      summary.steps.map((s) => [s.step, s.status, s.rows_in, s.rows_out, s.quarantined, s.deduplicated]),
    ).toEqual([
      ['cleanup', 'succeeded', 11, 8, 2, 1],
      ['enrichment', 'succeeded', 8, 8, 0, 0],
      ['price_trends', 'succeeded', 8, 5, 0, 0],
      ['features', 'succeeded', 8, 7, 0, 0],
    ]);
    expect(
      summary.steps.every((s) => s.engine === 'emr' && s.detail?.dq.every((c) => c.status === 'pass')),
    ).toBe(true);
    // The same ledger the local engines write: running (submitted), running (RUNNING), succeeded per step.
    const events = new Ledger(lake).events(runId).filter((e) => e.step === 'cleanup');
    expect(events.map((e) => [e.status, e.message])).toEqual([
      ['running', 'submitted as EMR step s-1 on j-N'],
      ['running', 'EMR step s-1 RUNNING on j-N'],
      ['succeeded', 'EMR step s-1'],
    ]);
    expect(new Ledger(lake).runs().find((r) => r.runId === runId)?.status).toBe('succeeded');
    const parts = glueMock.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.TableName);
    expect(parts).toEqual([
      'deals',
      'quarantine',
      'enriched_deals',
      'price_trends',
      'price_daily',
      'features',
    ]);
    // Steps were submitted once, in dependency order, carrying runtime-resolved plans.
    const steps = emrMock.commandCalls(RunJobFlowCommand)[0]!.args[0].input.Steps ?? [];
    expect(steps.map((s) => s.Name)).toEqual(JOBS.map((j) => `${j} [${runId}]`));
    const plansPut = s3Mock
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input)
      .find((i) => i.Key?.endsWith('/plans.json'))!;
    const plans = JSON.parse(Buffer.from(plansPut.Body as Uint8Array).toString('utf8')) as {
      job: string;
      inputs: { files: string[]; locations: string[] }[];
    }[];
    expect(plans.map((p) => p.job)).toEqual(JOBS);
    expect(plans[1]!.inputs[0]).toMatchObject({
      files: [],
      locations: [`s3://lake-bkt/lake/deals/dt=${DATE}/`],
    });
    expect(emrMock.commandCalls(TerminateJobFlowsCommand)).toHaveLength(0);
  });

  it('FAILED: the stderr tail is in the run error, the run failed, later steps cancelled and recorded failed', async () => {
    const runId = `${DATE}_bad`;
    resultsFor(runId);
    emrMock
      .on(ListStepsCommand)
      .resolvesOnce(listed(runId, ['PENDING', 'PENDING', 'PENDING', 'PENDING']))
      .resolvesOnce(listed(runId, ['COMPLETED', 'RUNNING', 'PENDING', 'PENDING']))
      .resolves(listed(runId, ['COMPLETED', 'FAILED', 'PENDING', 'PENDING']));
    const stderr = gzipSync(
      'INFO starting\nTraceback (most recent call last):\njob enrichment failed: [UNRESOLVED_COLUMN] x\n',
    );
    s3Mock
      .on(GetObjectCommand, { Bucket: 'lake-bkt', Key: 'df/emr-logs/j-N/steps/s-2/stderr.gz' })
      .resolves({ Body: { transformToByteArray: async () => new Uint8Array(stderr) } as never });
    const summary = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, runId });
    expect(summary.status).toBe('failed');
    expect(summary.error).toBeInstanceOf(EmrStepFailedError);
    expect(summary.error?.message).toContain('EMR step enrichment (s-2) on j-N ended FAILED: Unknown Error');
    expect(summary.error?.message).toMatch(
      /stderr\.gz ---\n.*\nTraceback \(most recent call last\):\njob enrichment failed: \[UNRESOLVED_COLUMN\] x$/s,
    );
    expect(summary.steps.map((s) => [s.step, s.status])).toEqual([
      ['cleanup', 'succeeded'],
      ['enrichment', 'failed'],
      ['price_trends', 'failed'],
      ['features', 'failed'],
    ]);
    expect(summary.steps[1]!.message).toBe('EMR step s-2 FAILED: Unknown Error');
    expect(summary.steps[2]!.message).toMatch(
      /^not completed: EMR step enrichment \(s-2\) on j-N ended FAILED/,
    );
    expect(emrMock.commandCalls(CancelStepsCommand)[0]!.args[0].input.StepIds).toEqual(['s-3', 's-4']);
    expect(emrMock.commandCalls(TerminateJobFlowsCommand)).toHaveLength(1);
    expect(glueMock.commandCalls(BatchCreatePartitionCommand)).toHaveLength(0);
    expect(new Ledger(lake).runs().find((r) => r.runId === runId)?.status).toBe('failed');

    // --resume: the succeeded step is kept, the others are submitted again under the same run id.
    emrMock.reset();
    emrMock.on(RunJobFlowCommand).resolves({ JobFlowId: 'j-R' });
    emrMock.on(DescribeClusterCommand).resolves({ Cluster: { Id: 'j-R', Status: { State: 'RUNNING' } } });
    emrMock.on(ListStepsCommand).resolves({
      Steps: JOBS.slice(1).map((job, i) => ({
        Id: `s-r${i}`,
        Name: `${job} [${runId}]`,
        Status: { State: 'COMPLETED' },
      })),
    });
    const resumed = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, resume: runId });
    expect(resumed.status).toBe('succeeded');
    expect(emrMock.commandCalls(RunJobFlowCommand)[0]!.args[0].input.Steps?.map((s) => s.Name)).toEqual(
      JOBS.slice(1).map((j) => `${j} [${runId}]`),
    );
    expect(resumed.steps.map((s) => [s.step, s.status])).toEqual(JOBS.map((j) => [j, 'succeeded']));
  });

  it('runs show of an EMR run lists quarantine by reason, from the runner’s result', async () => {
    const runId = `${DATE}_show`;
    resultsFor(runId);
    emrMock
      .on(ListStepsCommand)
      .resolves(listed(runId, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']));
    const summary = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, runId });
    expect(summary.status).toBe('succeeded');
    expect(summary.steps[0]!.detail?.quarantineByCode).toEqual({ missing_price: 1, unparseable_price: 1 });
    const configFile = path.join(meta, 'show.config.json');
    writeFileSync(configFile, JSON.stringify({ lake: { root: 's3://lake-bkt/lake', metaRoot: meta } }));
    const shown = await runCli(['--config', configFile, '--log-level', 'silent', 'runs', 'show', runId]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/quarantine reason\s.*rows/);
    expect(shown.out).toMatch(/missing_price\s.*1/);
    expect(shown.out).toMatch(/unparseable_price\s.*1/);
  });

  // Mocked, not moto: moto's EMR steps never leave PENDING, so a COMPLETED step whose result
  // object is missing or broken can only be reached with aws-sdk-client-mock.
  it.each([
    [
      'missing',
      undefined,
      /result s3:\/\/lake-bkt\/df\/runs\/.*\/cleanup\.json is unusable: not readable \(NoSuchKey/,
    ],
    ['not JSON', '{"items": [', /is unusable: not JSON/],
    [
      'without counts',
      JSON.stringify({ items: [{ job: 'cleanup', ok: true, outputs: {} }] }),
      /lacks rows_in/,
    ],
    [
      'without quarantine by reason',
      JSON.stringify({
        items: [
          {
            job: 'cleanup',
            ok: true,
            metrics: { rows_in: 11, deduplicated: 1, filtered: 0 },
            outputs: { deals: output('deals', 8), quarantine: output('quarantine', 2) },
          },
        ],
      }),
      /output quarantine has no quarantine counts by reason/,
    ],
  ])(
    'a COMPLETED step whose result is %s is recorded failed, and the run fails',
    async (_what, body, why) => {
      const runId = `${DATE}_unreadable_${_what.replaceAll(' ', '_')}`;
      resultsFor(runId);
      const key = `df/runs/${runId}/results/cleanup.json`;
      if (body === undefined)
        s3Mock
          .on(GetObjectCommand, { Bucket: 'lake-bkt', Key: key })
          .rejects(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }));
      else
        s3Mock
          .on(GetObjectCommand, { Bucket: 'lake-bkt', Key: key })
          .resolves({ Body: { transformToString: async () => body } as never });
      emrMock
        .on(ListStepsCommand)
        .resolvesOnce(listed(runId, ['PENDING', 'PENDING', 'PENDING', 'PENDING']))
        .resolvesOnce(listed(runId, ['COMPLETED', 'RUNNING', 'PENDING', 'PENDING']))
        .resolves(listed(runId, ['COMPLETED', 'RUNNING', 'PENDING', 'PENDING']));
      const summary = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, runId });
      expect(summary.status).toBe('failed');
      expect(summary.error).toBeInstanceOf(EmrStepResultError);
      expect(summary.error?.code).toBe('emr-step-failed');
      const cleanup = summary.steps.find((s) => s.step === 'cleanup')!;
      expect(cleanup.status).toBe('failed');
      expect(cleanup.rows_out).toBeNull();
      expect(cleanup.message).toMatch(why);
      // The run stopped there: the later steps are cancelled on EMR and recorded not completed.
      expect(summary.steps.slice(1).map((s) => [s.step, s.status])).toEqual(
        JOBS.slice(1).map((j) => [j, 'failed']),
      );
      expect(summary.steps[1]!.message).toMatch(
        /^not completed: EMR step cleanup \(s-1\) completed but its result/,
      );
      expect(emrMock.commandCalls(CancelStepsCommand)[0]!.args[0].input.StepIds).toEqual([
        's-2',
        's-3',
        's-4',
      ]);
      expect(glueMock.commandCalls(BatchCreatePartitionCommand)).toHaveLength(0);
      expect(new Ledger(lake).runs().find((r) => r.runId === runId)?.status).toBe('failed');
    },
  );

  it('--no-wait records the steps submitted; --resume later awaits those same steps and finishes the bookkeeping and Glue', async () => {
    const runId = `${DATE}_nowait`;
    resultsFor(runId);
    emrMock.on(ListStepsCommand).resolves(listed(runId, ['PENDING', 'PENDING', 'PENDING', 'PENDING']));
    const submitted = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, runId, wait: false });
    expect(submitted).toMatchObject({ status: 'succeeded', state: 'submitted', clusterId: 'j-N' });
    expect(submitted.steps.map((s) => [s.step, s.status, s.message])).toEqual(
      JOBS.map((j, i) => [j, 'running', `submitted as EMR step s-${i + 1} on j-N`]),
    );
    expect(new Ledger(lake).runs().find((r) => r.runId === runId)?.status).toBe('incomplete');
    expect(glueMock.commandCalls(BatchCreatePartitionCommand)).toHaveLength(0);

    // Later (`dealctl emr watch RUN`): the same step ids are polled, nothing is submitted again.
    emrMock.reset();
    emrMock.on(DescribeClusterCommand).resolves({ Cluster: { Id: 'j-N', Status: { State: 'RUNNING' } } });
    emrMock
      .on(ListStepsCommand)
      .resolves(listed(runId, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']));
    const watched = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, resume: runId });
    expect(watched.error?.message).toBeUndefined();
    expect(watched.state).toBe('succeeded');
    expect(emrMock.commandCalls(RunJobFlowCommand)).toHaveLength(0);
    expect(watched.steps.map((s) => [s.step, s.status, s.rows_out])).toEqual([
      ['cleanup', 'succeeded', 8],
      ['enrichment', 'succeeded', 8],
      ['price_trends', 'succeeded', 5],
      ['features', 'succeeded', 7],
    ]);
    expect(watched.steps[0]!.detail?.quarantineByCode).toEqual({ missing_price: 1, unparseable_price: 1 });
    const parts = glueMock.commandCalls(BatchCreatePartitionCommand).map((c) => c.args[0].input.TableName);
    expect(parts).toEqual([
      'deals',
      'quarantine',
      'enriched_deals',
      'price_trends',
      'price_daily',
      'features',
    ]);
    expect(new Ledger(lake).runs().find((r) => r.runId === runId)?.status).toBe('succeeded');
  });

  it('raw files the runner could not read on EMR: reported, counted by the unreadable_files check; the plan asks the runner to check', async () => {
    const runId = `${DATE}_rawfiles`;
    resultsFor(runId);
    const body = JSON.stringify({
      items: [
        {
          job: 'cleanup',
          ok: true,
          durationMs: 1,
          ...RESULTS.cleanup,
          rawFiles: {
            readable: 1,
            unreadable: [{ source: `raw/deals/dt=${DATE}/partner.parquet`, reason: 'not a Parquet file' }],
            quarantined: 1,
          },
        },
      ],
    });
    s3Mock
      .on(GetObjectCommand, { Bucket: 'lake-bkt', Key: `df/runs/${runId}/results/cleanup.json` })
      .resolves({ Body: { transformToString: async () => body } as never });
    emrMock
      .on(ListStepsCommand)
      .resolves(listed(runId, ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']));
    const summary = await runNightlyOnEmr({ date: DATE, config, lake, log, clients, runId });
    expect(summary.status).toBe('succeeded');
    const cleanup = summary.steps[0]!;
    expect(cleanup.detail?.dq.find((c) => c.check === 'unreadable_files')).toMatchObject({
      status: 'pass',
      value: 0.5,
      message: `1 of 2 raw files unreadable (raw/deals/dt=${DATE}/partner.parquet)`,
    });
    expect(cleanup.detail?.unreadableFiles).toEqual([
      { source: `raw/deals/dt=${DATE}/partner.parquet`, reason: 'not a Parquet file' },
    ]);
    expect(summary.warnings).toEqual([
      `raw/deals/dt=${DATE}/partner.parquet: unreadable, quarantined as one file by the runner (not a Parquet file)`,
    ]);
    expect(cleanup.detail?.quarantineByCode).toEqual({
      missing_price: 1,
      unparseable_price: 1,
      unreadable_file: 1,
    });
    const plansPut = s3Mock
      .commandCalls(PutObjectCommand)
      .map((c) => c.args[0].input)
      .find((i) => i.Key?.endsWith('/plans.json'))!;
    const plans = JSON.parse(Buffer.from(plansPut.Body as Uint8Array).toString('utf8')) as {
      job: string;
      inputs: { table: string; checkReadable?: boolean; requireFiles?: boolean }[];
    }[];
    expect(plans[0]!.inputs.map((i) => [i.table, i.checkReadable ?? false, i.requireFiles ?? false])).toEqual(
      [
        ['raw_deals', true, true],
        ['deals', false, false],
      ],
    );
  });
});
