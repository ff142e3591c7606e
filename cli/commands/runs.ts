import Table from 'cli-table3';
import type { Command } from 'commander';
import { RunNotFoundError } from '../../core/errors.ts';
import { Ledger } from '../../pipelines/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseCount } from '../options.ts';
import { renderSummary, stepsJson } from '../render.ts';

export function defineRuns(runs: Command, { io }: CliSession): void {
  runs
    .command('list')
    .description('List runs, newest last.')
    .option('-n, --limit <n>', 'show the last n runs', parseCount, 20)
    .option('--json', 'JSON output')
    .action((opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const all = new Ledger(ctx.lake).runs().slice(-opts.limit);
      if (opts.json) {
        io.out.write(
          `${JSON.stringify(
            all.map(({ steps, ...r }) => ({ ...r, steps: steps.map((s) => `${s.step}:${s.status}`) })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      const t = new Table({
        style: { head: [], border: [] },
        head: ['run id', 'date', 'engine', 'status', 'started', 'steps'],
      });
      for (const r of all)
        t.push([
          r.runId,
          r.runDate,
          r.engine,
          r.status,
          r.startedAt,
          r.steps.map((s) => `${s.step}:${s.status}`).join(' '),
        ]);
      io.out.write(`${t.toString()}\n`);
    });
  runs
    .command('show')
    .description('Show one run: steps, counts, quarantine by reason, data-quality results.')
    .argument('<run-id>')
    .option('--json', 'JSON output')
    .action((runId: string, opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const run = new Ledger(ctx.lake).runs().find((r) => r.runId === runId);
      if (!run) {
        throw new RunNotFoundError(runId, ctx.lake.root);
      }
      if (opts.json) {
        io.out.write(`${JSON.stringify({ ...run, steps: stepsJson(run.steps) }, null, 2)}\n`);
        return;
      }
      const wall = run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : 0;
      io.out.write(
        renderSummary(
          {
            runId,
            date: run.runDate,
            engine: run.engine,
            status: run.status,
            steps: run.steps,
            wallMs: wall,
          },
          ctx.lake.root,
        ),
      );
    });
}
