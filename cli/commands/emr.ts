import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CancelStepsCommand,
  DescribeClusterCommand,
  ListStepsCommand,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { awsClients } from '../../core/aws.ts';
import { UsageError } from '../../core/errors.ts';
import { yesterdayUtc } from '../../core/lake.ts';
import { SPARK_RUNNER } from '../../jobs/engines/spark/index.ts';
import { JOBS, jobByName, topologicalOrder } from '../../jobs/registry.ts';
import { fetchStepStderr } from '../../pipelines/emr/logs.ts';
import { runNightlyOnEmr } from '../../pipelines/emr/nightly.ts';
import { dryRunEmr } from '../../pipelines/emr/orchestrator.ts';
import { emrPlansOf } from '../../pipelines/emr/plans.ts';
import { logUriOf } from '../../pipelines/emr/requests.ts';
import { Ledger } from '../../pipelines/ledger.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseClusterId, parseCount, parseDate } from '../options.ts';
import { renderSummary, stepsJson } from '../render.ts';

/** `dealctl emr …`: inspect and control the EMR side of a run (see docs/runbooks/emr.md). */
export function defineEmr(emr: Command, session: CliSession): void {
  const { io } = session;

  emr
    .command('dry-run')
    .description(
      'Print, as JSON, the exact S3/Glue/EMR requests a nightly run on EMR would make (no AWS call).',
    )
    .option('-d, --date <YYYY-MM-DD>', 'data date (default: yesterday, UTC)', parseDate)
    .option('--only <jobs...>', 'only these jobs')
    .option('--runner <file>', 'PySpark runner to upload', SPARK_RUNNER)
    .option('--plans <file>', 'plans JSON to upload (default: planned now from the lake)')
    .action(async (opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const date: string = opts.date ?? yesterdayUtc(ctx.clock);
      if (!existsSync(opts.runner))
        throw new UsageError(`runner ${opts.runner} not found`, 'pass --runner <file>');
      const jobs = topologicalOrder(opts.only ? (opts.only as string[]).map(jobByName) : JOBS);
      const runId = Ledger.newRunId(date);
      const plans = opts.plans
        ? JSON.parse(readFileSync(opts.plans, 'utf8'))
        : emrPlansOf(jobs, { config: ctx.config, runId, date });
      const requests = await dryRunEmr({
        config: ctx.config,
        runId,
        date,
        jobs: jobs.map((j) => j.name),
        runnerFile: path.resolve(opts.runner),
        plans,
      });
      io.out.write(`${JSON.stringify(requests, null, 2)}\n`);
    });

  emr
    .command('watch <run-id>')
    .description(
      'Await the EMR steps of a run submitted with `nightly --engine emr --no-wait` and finish its bookkeeping: ledger, DQ, quarantine by reason, Glue partitions (same as `nightly --engine emr --resume RUN`).',
    )
    .option('--json', 'print the run summary as JSON')
    .action(async (runId: string, opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const run = new Ledger(ctx.lake).runs().find((r) => r.runId === runId);
      if (!run)
        throw new UsageError(`run ${runId} is not in the ledger`, 'list runs with `dealctl runs list`');
      if (run.engine !== 'emr')
        throw new UsageError(
          `run ${runId} ran on ${run.engine}, not emr`,
          'resume it with `dealctl nightly --resume`',
        );
      const clients = awsClients(ctx.config);
      try {
        const summary = await runNightlyOnEmr({
          date: run.runDate,
          config: ctx.config,
          lake: ctx.lake,
          log: ctx.log,
          clients,
          resume: runId,
        });
        io.out.write(
          opts.json
            ? `${JSON.stringify({ ...summary, error: summary.error ? { code: summary.error.code, message: summary.error.message } : undefined, steps: stepsJson(summary.steps) }, null, 2)}\n`
            : renderSummary(summary, ctx.config.lake.root),
        );
        if (summary.error) process.exitCode = summary.error.exitCode;
      } finally {
        clients.destroy();
      }
    });

  emr
    .command('status <cluster-id>')
    .description('Cluster state and its steps (newest first).')
    .option('--json', 'JSON output')
    .action(async (id: string, opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const clients = awsClients(ctx.config);
      try {
        const clusterId = parseClusterId(id);
        const cluster = (await clients.emr.send(new DescribeClusterCommand({ ClusterId: clusterId })))
          .Cluster;
        const steps = (await clients.emr.send(new ListStepsCommand({ ClusterId: clusterId }))).Steps ?? [];
        if (opts.json) {
          io.out.write(`${JSON.stringify({ cluster, steps }, null, 2)}\n`);
          return;
        }
        const reason = cluster?.Status?.StateChangeReason;
        io.out.write(
          `${clusterId} ${cluster?.Name ?? ''}: ${cluster?.Status?.State}${reason?.Message ? ` (${reason.Code}: ${reason.Message})` : ''}\n`,
        );
        const t = new Table({
          style: { head: [], border: [] },
          head: ['step id', 'name', 'state', 'failure'],
        });
        for (const s of steps)
          t.push([s.Id ?? '', s.Name ?? '', s.Status?.State ?? '', s.Status?.FailureDetails?.Reason ?? '']);
        io.out.write(`${t.toString()}\n`);
      } finally {
        clients.destroy();
      }
    });

  emr
    .command('cancel <cluster-id>')
    .description('Cancel pending/running steps of a cluster; with --terminate also terminate it.')
    .option('--steps <ids...>', 'only these step ids (default: every PENDING or RUNNING step)')
    .option('--terminate', 'terminate the cluster too (transient clusters)')
    .action(async (id: string, opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const clients = awsClients(ctx.config);
      try {
        const clusterId = parseClusterId(id);
        const stepIds: string[] =
          opts.steps ??
          (
            (
              await clients.emr.send(
                new ListStepsCommand({ ClusterId: clusterId, StepStates: ['PENDING', 'RUNNING'] }),
              )
            ).Steps ?? []
          ).map((s) => s.Id ?? '');
        if (stepIds.length > 0) {
          try {
            const res = await clients.emr.send(
              new CancelStepsCommand({
                ClusterId: clusterId,
                StepIds: stepIds,
                StepCancellationOption: 'SEND_INTERRUPT',
              }),
            );
            for (const c of res.CancelStepsInfoList ?? [])
              io.out.write(`${c.StepId}: ${c.Status} ${c.Reason ?? ''}\n`);
          } catch (error) {
            // still terminate when asked: a stuck cancel must not keep a transient cluster billing
            io.err.write(`CancelSteps failed: ${(error as Error).message.split('\n')[0]}\n`);
            session.fail(1);
          }
        } else io.out.write('no pending or running steps\n');
        if (opts.terminate) {
          await clients.emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [clusterId] }));
          io.out.write(`${clusterId}: termination requested\n`);
        }
      } finally {
        clients.destroy();
      }
    });

  emr
    .command('logs <cluster-id> <step-id>')
    .description("Tail of a step's stderr from the cluster's S3 log location.")
    .option('-n, --lines <n>', 'lines to show', parseCount, 100)
    .action(async (id: string, stepId: string, opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const clients = awsClients(ctx.config);
      try {
        const clusterId = parseClusterId(id);
        const cluster = (await clients.emr.send(new DescribeClusterCommand({ ClusterId: clusterId })))
          .Cluster;
        const logUri = (cluster?.LogUri ?? logUriOf(ctx.config)).replace(/^s3n:/, 's3:');
        const got = await fetchStepStderr(clients.s3, logUri, clusterId, stepId, { lines: opts.lines });
        if (got.tail === null) {
          io.err.write(`no log at ${got.uri} yet (EMR uploads step logs about every 5 minutes)\n`);
          session.fail(1);
          return;
        }
        io.err.write(
          `--- ${got.uri} (last ${Math.min(opts.lines, got.totalLines)} of ${got.totalLines} lines) ---\n`,
        );
        io.out.write(`${got.tail}\n`);
      } finally {
        clients.destroy();
      }
    });
}
