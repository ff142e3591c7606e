import Table from 'cli-table3';
import type { Command } from 'commander';
import { IngestError, ingestSources } from '../../ingest/index.ts';
import { duckDbSettings, openDuckDb } from '../../jobs/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';

function parseInstant(value: string): Date {
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(t))
    throw new Error(`"${value}" is not an ISO instant such as 2026-11-22T10:00:00Z`);
  return new Date(t);
}

/** `dealctl ingest SOURCE…` (the description is registered in cli/main.ts). */
export function defineIngest(command: Command, { io }: CliSession): void {
  command
    .argument('<source...>', 'files or URLs')
    .option('--feed <name>', 'feed name of feed entries (default: file name, or URL host + path)')
    .option('--category <name>', 'category hint of feed entries (the feed page’s category)')
    .option(
      '--seen-at <instant>',
      'when feed entries were seen (default: now); their day is their partition',
      parseInstant,
    )
    .option('--json', 'JSON output')
    .action(async (sources: string[], opts) => {
      const ctx = contextOf(command, io.out);
      const db = await openDuckDb(duckDbSettings(ctx.config));
      const conn = await db.connect();
      let reports: Awaited<ReturnType<typeof ingestSources>>;
      try {
        reports = await ingestSources(conn, sources, {
          lake: ctx.lake,
          config: ctx.config,
          clock: ctx.clock,
          feed: opts.feed,
          category: opts.category,
          seenAt: opts.seenAt,
        });
      } finally {
        conn.closeSync();
        db.closeSync();
      }
      if (opts.json) io.out.write(`${JSON.stringify(reports, null, 2)}\n`);
      else {
        const t = new Table({
          style: { head: [], border: [] },
          head: ['source', 'kind', 'status', 'entries', 'landed (day: rows)', 'rejected'],
        });
        for (const r of reports)
          t.push([
            r.source,
            r.kind ?? '-',
            r.status,
            r.entries,
            r.landed.map((l) => `${l.date}: ${l.rows}`).join(', ') || '-',
            r.rejected ? `${r.rejected} → ${r.rejectedFile}` : 0,
          ]);
        io.out.write(`${t.toString()}\n`);
        for (const r of reports) if (r.error) io.out.write(`  ${r.source}: ${r.error}\n`);
      }
      const failed = reports.filter((r) => r.status === 'failed');
      if (failed.length > 0)
        throw new IngestError(
          failed.map((f) => f.source).join(', '),
          `${failed.length} of ${reports.length} source(s) could not be ingested; the others landed`,
        );
    });
}
