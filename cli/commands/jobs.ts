import type { Command } from 'commander';
import { yesterdayUtc } from '../../core/lake.ts';
import { JOBS, jobByName, planJob } from '../../jobs/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseDate } from '../options.ts';

export function defineJobs(jobs: Command, { io }: CliSession): void {
  jobs
    .command('list')
    .description('List the jobs in dependency order.')
    .action(() => {
      for (const j of JOBS)
        io.out.write(
          `${j.name.padEnd(14)} ${j.kind.padEnd(10)} after: ${j.dependsOn.join(', ') || '-'}\n  ${j.description}\n`,
        );
    });
  jobs
    .command('plan')
    .description(
      'Print the engine-neutral plan of a job for a date as JSON (what DuckDB runs, and what the Spark runner reads).',
    )
    .argument('<job>')
    .option('-d, --date <YYYY-MM-DD>', 'data date (default: yesterday)', parseDate)
    .option('--run-id <id>', 'run id to plan with', 'plan')
    .action((name: string, opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const plan = planJob(jobByName(name), {
        lake: ctx.lake,
        config: ctx.config,
        runId: opts.runId,
        runDate: opts.date ?? yesterdayUtc(ctx.clock),
      });
      io.out.write(`${JSON.stringify(plan, null, 2)}\n`);
    });
}
