import { Command, Option } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { assertDate, yesterdayUtc } from '../../core/lake.ts';
import { createEngine, ENGINE_NAMES } from '../../jobs/engines/index.ts';
import { runNightly } from '../../pipelines/index.ts';
import { contextOf } from '../context.ts';
import type { CliIo } from '../main.ts';
import { renderSummary, stepsJson, ttyProgress } from '../render.ts';
import { seedSample } from './sample.ts';

export function parseDate(value: string): string {
  try {
    return assertDate(value);
  } catch {
    throw new UsageError(`"${value}" is not a date`, 'dates are YYYY-MM-DD (UTC)');
  }
}

export function parseCount(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`"${value}" is not a whole number`);
  return n;
}

export function nightlyCommand(io: CliIo): Command {
  return new Command('nightly')
    .description(
      'Run the nightly batch pipeline (cleanup → enrichment → price_trends → features) for one date.',
    )
    .option('-d, --date <YYYY-MM-DD>', 'data date to process (default: yesterday, UTC)', parseDate)
    .addOption(
      new Option(
        '-e, --engine <engine>',
        'execution engine (spark: local spark-submit; EMR: see `dealctl emr`)',
      )
        .choices([...ENGINE_NAMES])
        .default('duckdb'),
    )
    .option('--resume <run-id>', 'continue a failed run: keep its succeeded steps, rerun the rest')
    .option('--force', 'recompute steps even when their inputs are unchanged since the last run')
    .option('--only <jobs...>', 'run only these jobs')
    .option(
      '--sample',
      'seed the lake with generated sample data (and the bundled RSS feed) for the date and the days before it, then run',
    )
    .option('--raw-deals <n>', 'with --sample: raw deal entries per day', parseCount, 20_000)
    .option('--days <n>', 'with --sample: days of history to generate and process', parseCount, 7)
    .option('--products <n>', 'with --sample: catalog size', parseCount, 5_000)
    .option('--seed <n>', 'with --sample: random seed', parseCount, 42)
    .option('--json', 'print the run summary as JSON on stdout')
    .action(async (opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const date: string = opts.date ?? yesterdayUtc();
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
          ...(progress ? { progress } : {}),
        });
        if (opts.json) {
          io.out.write(
            `${JSON.stringify({ ...summary, error: summary.error ? { code: summary.error.code, message: summary.error.message } : undefined, steps: stepsJson(summary.steps) }, null, 2)}\n`,
          );
        } else {
          io.out.write(renderSummary(summary, ctx.lake.root));
        }
        if (summary.error) process.exitCode = summary.error.exitCode;
      } finally {
        await engine.close();
      }
    });
}
