import path from 'node:path';
import { type Command, Option } from 'commander';
import type { Config } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import { Lake, yesterdayUtc } from '../../core/lake.ts';
import { createEngine, ENGINE_NAMES } from '../../jobs/engines/index.ts';
import { SPARK_RUNNER, sparkPlanOf } from '../../jobs/engines/spark/index.ts';
import { planJob } from '../../jobs/plan.ts';
import { selectJobs } from '../../jobs/registry.ts';
import { Ledger, runNightly } from '../../pipelines/index.ts';
import { seedSample } from '../../samples/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseClusterId, parseCount, parseDate, parseMinutes } from '../options.ts';
import { renderSummary, stepsJson, ttyProgress } from '../render.ts';

/** The config with the EMR flags of `nightly` applied. */
function emrConfigOf(config: Config, opts: { clusterId?: string; deadline?: number }): Config {
  if (opts.clusterId !== undefined) parseClusterId(opts.clusterId);
  return {
    ...config,
    emr: {
      ...config.emr,
      ...(opts.clusterId ? { existingClusterId: opts.clusterId } : {}),
      ...(opts.deadline !== undefined ? { deadlineMinutes: opts.deadline } : {}),
    },
  };
}

export function defineNightly(command: Command, session: CliSession): void {
  const { io } = session;
  command
    .option('-d, --date <YYYY-MM-DD>', 'data date to process (default: yesterday, UTC)', parseDate)
    .addOption(
      new Option(
        '-e, --engine <engine>',
        'execution engine: duckdb (in-process), spark (local spark-submit), emr (Spark steps on AWS EMR; lake.root must be s3://)',
      )
        .choices([...ENGINE_NAMES, 'emr'])
        .default('duckdb'),
    )
    .option(
      '--dry-run',
      'print what would run, as JSON, and exit: the job plans (duckdb, spark) or the exact S3/Glue/EMR requests (emr); no AWS call, nothing written',
    )
    .option('--resume <run-id>', 'continue a failed run: keep its succeeded steps, rerun the rest')
    .option('--force', 'recompute steps even when their inputs are unchanged since the last run')
    .option('--only <jobs...>', 'run only these jobs')
    .option(
      '--allow-empty',
      'run even if the date has no raw deals (an intentionally empty night); without it that is a missing-input error, exit 4',
    )
    .option(
      '--cluster-id <j-…>',
      'emr: add the steps to this running cluster (default: emr.existingClusterId, else a transient cluster)',
    )
    .option(
      '--no-wait',
      'emr: return once the steps are submitted (ledger: steps running); finish later with `dealctl emr watch <run-id>`',
    )
    .option(
      '--deadline <minutes>',
      'emr: stop waiting (cancel steps, terminate a transient cluster) after this long (default emr.deadlineMinutes)',
      parseMinutes,
    )
    .option(
      '--runner <file>',
      'emr: PySpark runner to upload (default: jobs/spark/runner.py of this installation)',
    )
    .option(
      '--sample',
      'seed the lake with generated sample data (and the bundled RSS feed) for the date and the days before it, then run',
    )
    .option('--raw-deals <n>', 'with --sample: raw deal entries per day', parseCount, 20_000)
    .option('--days <n>', 'with --sample: days of history to generate and process', parseCount, 7)
    .option('--products <n>', 'with --sample: catalog size', parseCount, 5_000)
    .option('--seed <n>', 'with --sample: random seed', parseCount, 42)
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (opts) => {
      const ctx = contextOf(command, io.out);
      const date: string = opts.date ?? yesterdayUtc(ctx.clock);
      if (opts.engine !== 'emr') {
        for (const flag of ['clusterId', 'deadline'] as const)
          if (opts[flag] !== undefined)
            throw new UsageError(`--${flag === 'clusterId' ? 'cluster-id' : flag} needs --engine emr`);
        if (opts.wait === false) throw new UsageError('--no-wait needs --engine emr');
      }
      if (opts.dryRun) {
        io.out.write(`${JSON.stringify(await dryRun(opts, ctx.config, ctx.lake, date), null, 2)}\n`);
        return;
      }
      if (opts.engine === 'emr') {
        await nightlyOnEmr(session, ctx, opts, date);
        return;
      }
      const engine = await createEngine(opts.engine, ctx.config);
      try {
        const dates = [date];
        if (opts.sample) {
          const seeded = await seedSample(ctx, {
            endDate: date,
            days: opts.days,
            rawDealsPerDay: opts.rawDeals,
            products: opts.products,
            seed: opts.seed,
          });
          dates.splice(0, 1, ...seeded.dates);
          io.err.write(
            `Seeded sample data: ${seeded.products.toLocaleString('en-US')} products, ${seeded.dates.length} day(s) × ${opts.rawDeals.toLocaleString('en-US')} raw deals + bundled RSS feed\n`,
          );
        }
        // Earlier sample days are caught up first (each idempotent), so trends have history.
        for (const d of dates.slice(0, -1)) {
          const s = await runNightly({
            date: d,
            engine,
            config: ctx.config,
            lake: ctx.lake,
            log: ctx.log,
            force: opts.force,
          });
          io.err.write(`  ${d}: ${s.status} (${s.steps.map((x) => `${x.step} ${x.status}`).join(', ')})\n`);
          if (s.status === 'failed') throw s.error;
        }
        const progress = ctx.isTty && !opts.json ? ttyProgress(process.stderr) : undefined;
        const summary = await runNightly({
          date: dates.at(-1)!,
          engine,
          config: ctx.config,
          lake: ctx.lake,
          log: ctx.log,
          resume: opts.resume,
          force: opts.force,
          only: opts.only,
          allowEmpty: opts.allowEmpty,
          ...(progress ? { progress } : {}),
        });
        if (opts.json) {
          io.out.write(
            `${JSON.stringify({ ...summary, error: summary.error ? { code: summary.error.code, message: summary.error.message } : undefined, steps: stepsJson(summary.steps) }, null, 2)}\n`,
          );
        } else {
          io.out.write(renderSummary(summary, ctx.lake.root));
        }
        if (summary.error) session.fail(summary.error.exitCode);
      } finally {
        await engine.close();
      }
    });
}

interface NightlyOpts {
  engine: string;
  only?: string[];
  clusterId?: string;
  deadline?: number;
  wait: boolean;
  runner?: string;
  resume?: string;
  sample?: boolean;
  json?: boolean;
}

/** --dry-run: the plans (local engines) or the EMR run's requests, as plain data. */
async function dryRun(opts: NightlyOpts, config: Config, lake: Lake, date: string): Promise<unknown> {
  const jobs = selectJobs(opts.only);
  const runId = opts.resume ?? Ledger.newRunId(date);
  if (opts.engine === 'emr') {
    const emrConfig = emrConfigOf(config, opts);
    const { dryRunEmr } = await import('../../pipelines/emr/orchestrator.ts');
    const { emrPlansOf } = await import('../../pipelines/emr/plans.ts');
    return dryRunEmr({
      config: emrConfig,
      runId,
      date,
      jobs: jobs.map((j) => j.name),
      runnerFile: opts.runner ? path.resolve(opts.runner) : SPARK_RUNNER,
      plans: emrPlansOf(jobs, { config: emrConfig, runId, date, lake }),
    });
  }
  const plans = jobs.map((job) => {
    const plan = planJob(job, { lake, config, runId, runDate: date });
    return opts.engine === 'spark' ? sparkPlanOf(plan) : plan;
  });
  return {
    engine: opts.engine,
    date,
    runId,
    note: 'input files as the lake holds them now: files that earlier steps of this run would write are not listed yet (the run plans each job when it starts)',
    plans,
  };
}

async function nightlyOnEmr(
  session: CliSession,
  ctx: ReturnType<typeof contextOf>,
  opts: NightlyOpts,
  date: string,
): Promise<void> {
  const { io } = session;
  if (opts.sample)
    throw new UsageError(
      '--sample needs a local lake',
      'seed with --engine duckdb, then copy the lake to S3',
    );
  const config = emrConfigOf(ctx.config, opts);
  const lake = new Lake(config.lake.root, { metaRoot: config.lake.metaRoot });
  const { awsClients } = await import('../../core/aws.ts');
  const { runNightlyOnEmr } = await import('../../pipelines/emr/nightly.ts');
  const clients = awsClients(config);
  const ac = new AbortController();
  const onSigint = () => {
    io.err.write('\ninterrupted: cancelling the run’s EMR steps (again to quit at once)…\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    const progress = ctx.isTty && !opts.json ? ttyProgress(process.stderr) : undefined;
    const summary = await runNightlyOnEmr({
      date,
      config,
      lake,
      log: ctx.log,
      clients,
      only: opts.only,
      wait: opts.wait,
      runnerFile: opts.runner ? path.resolve(opts.runner) : SPARK_RUNNER,
      resume: opts.resume,
      signal: ac.signal,
      progress,
    });
    if (opts.json) {
      const { timings, error, ...rest } = summary;
      io.out.write(
        `${JSON.stringify(
          {
            ...rest,
            error: error ? { code: error.code, message: error.message } : undefined,
            steps: stepsJson(summary.steps),
            timings,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      io.out.write(renderSummary(summary, config.lake.root));
      if (summary.clusterId)
        io.out.write(
          `EMR cluster ${summary.clusterId}: ${Object.entries(summary.stepIds)
            .map(([job, id]) => `${job} ${id}`)
            .join(', ')}\n`,
        );
      if (summary.status === 'failed')
        io.out.write(
          `(on EMR: dealctl nightly --engine emr --date ${summary.date} --resume ${summary.runId})\n`,
        );
      if (summary.state === 'submitted')
        io.out.write(
          `Submitted, not waited for: finish the bookkeeping with dealctl emr watch ${summary.runId} (cluster ${summary.clusterId})\n`,
        );
    }
    if (summary.error) session.fail(summary.error.exitCode);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    clients.destroy();
  }
}
