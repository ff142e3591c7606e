import { type Command, Option } from 'commander';
import { UsageError } from '../../core/errors.ts';
import { dateRange } from '../../core/lake.ts';
import { createEngine, ENGINE_NAMES } from '../../jobs/engines/index.ts';
import { runNightly } from '../../pipelines/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseDate } from '../options.ts';

export function defineBackfill(command: Command, session: CliSession): void {
  const { io } = session;
  command
    .requiredOption('--from <YYYY-MM-DD>', 'first date', parseDate)
    .requiredOption('--to <YYYY-MM-DD>', 'last date (inclusive)', parseDate)
    .addOption(
      new Option('-e, --engine <engine>', 'execution engine').choices([...ENGINE_NAMES]).default('duckdb'),
    )
    .option('--force', 'recompute even when inputs are unchanged')
    .option('--continue-on-error', 'go on with later dates after a failed one')
    .action(async (opts) => {
      if (opts.from > opts.to) throw new UsageError(`--from ${opts.from} is after --to ${opts.to}`);
      const ctx = contextOf(command, io.out);
      const engine = await createEngine(opts.engine, ctx.config);
      let failed = 0;
      try {
        for (const date of dateRange(opts.from, opts.to)) {
          const s = await runNightly({
            date,
            engine,
            config: ctx.config,
            lake: ctx.lake,
            log: ctx.log,
            force: opts.force,
          });
          const counts = s.steps
            .map(
              (x) =>
                `${x.step}=${x.status}${x.rows_out !== null && x.rows_out !== undefined ? `(${x.rows_out})` : ''}`,
            )
            .join(' ');
          io.out.write(`${date}\t${s.status}\t${s.runId}\t${(s.wallMs / 1000).toFixed(1)}s\t${counts}\n`);
          if (s.status === 'failed') {
            failed++;
            io.err.write(`error[${s.error?.code}]: ${s.error?.message}\n`);
            if (!opts.continueOnError) {
              session.fail(s.error?.exitCode ?? 1);
              return;
            }
          }
        }
        if (failed) session.fail(1);
      } finally {
        await engine.close();
      }
    });
}
