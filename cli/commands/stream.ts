import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { UsageError } from '../../core/errors.ts';
import {
  openScanner,
  prepareTopics,
  runStages,
  STAGES,
  type StageName,
  streamingContext,
} from '../../streaming/index.ts';
import { sleep } from '../../streaming/retry.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';

/** Resolves on the first SIGTERM/SIGINT (graceful drain), or when `abort` fires. */
function shutdownSignal(abort?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => {
      process.off('SIGTERM', term);
      process.off('SIGINT', int);
      resolve(sig);
    };
    const term = on('SIGTERM');
    const int = on('SIGINT');
    process.once('SIGTERM', term);
    process.once('SIGINT', int);
    abort?.addEventListener('abort', on('abort'));
  });
}

export function defineStream(stream: Command, session: CliSession): void {
  const { io } = session;

  stream
    .command('topics')
    .description('Create the missing topics and check the others against the topic config.')
    .option('--fix', 'raise partition counts and set retention where they differ')
    .option('--json', 'print the report as JSON')
    .action(async (opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const s = streamingContext(ctx.config, ctx.log);
      const rows = await prepareTopics(s, { fix: Boolean(opts.fix) });
      if (opts.json) io.out.write(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        const t = new Table({
          style: { head: [], border: [] },
          head: ['topic', 'status', 'partitions', 'retention (h)'],
        });
        for (const r of rows)
          t.push([
            r.topic,
            r.status,
            `${r.partitions.actual}/${r.partitions.wanted}`,
            `${r.retentionHours.actual ?? '?'}/${r.retentionHours.wanted}`,
          ]);
        io.out.write(`${t.toString()}\n`);
      }
      if (rows.some((r) => r.status === 'mismatch')) session.fail(1);
    });

  stream
    .command('scan')
    .description('Read the configured feeds (or --feed) and publish new entries to deals.raw.')
    .option('--feed <url-or-file...>', 'feeds to scan instead of streaming.scanner.feeds')
    .option('--watch', 'keep scanning every streaming.scanner.intervalSeconds until SIGTERM')
    .option('--json', 'print the per-feed report as JSON')
    .action(async (opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const s = streamingContext(ctx.config, ctx.log);
      const feeds: { name: string; url: string; category?: string }[] = opts.feed
        ? (opts.feed as string[]).map((url) => ({ name: url, url }))
        : [...ctx.config.streaming.scanner.feeds];
      if (feeds.length === 0)
        throw new UsageError(
          'no feeds to scan',
          'list feeds in streaming.scanner.feeds or pass --feed <url-or-file>',
        );
      await prepareTopics(s, { strict: true });
      const { scanner, close } = await openScanner(s);
      const stop = new AbortController();
      const stopped = shutdownSignal(stop.signal);
      let done = false;
      void stopped.then(() => {
        done = true;
      });
      try {
        do {
          const reports = await scanner.scanOnce(feeds);
          if (opts.json) io.out.write(`${JSON.stringify(reports)}\n`);
          else
            for (const r of reports)
              io.out.write(
                `${r.feed}: ${r.status}, ${r.published}/${r.entries} published${r.error ? ` (${r.error})` : ''}\n`,
              );
          if (!opts.watch) break;
          const until = Date.now() + ctx.config.streaming.scanner.intervalSeconds * 1000;
          while (!done && Date.now() < until) await sleep(Math.min(500, until - Date.now()));
        } while (!done);
      } finally {
        stop.abort();
        await close();
      }
    });

  stream
    .command('run')
    .description('Run stages as consumer groups until SIGTERM (graceful drain), in this process.')
    .addOption(new Option('--stage <stage>', 'stage to run').choices([...STAGES, 'all']).default('all'))
    .option(
      '--instance <id>',
      'instance id (transactional ids are <stage>-<id>); default streaming.instanceId',
    )
    .option('--metrics-port <port>', 'serve /metrics on 127.0.0.1:<port> (0 = any free port)', (v) =>
      Number(v),
    )
    .action(async (opts, command: Command) => {
      // Listen from the start: a SIGTERM during start-up drains as soon as the stages are up.
      const stopSignal = shutdownSignal();
      const ctx = contextOf(command, io.out);
      const s = streamingContext(ctx.config, ctx.log);
      const names: StageName[] = opts.stage === 'all' ? [...STAGES] : [opts.stage as StageName];
      await prepareTopics(s, { strict: true });
      const port: number | undefined = opts.metricsPort ?? ctx.config.streaming.metricsPort;
      const server = port === undefined ? undefined : await s.metrics.serve(port);
      if (server) ctx.log.info({ port: server.port }, 'metrics on /metrics');
      const running = await runStages(names, s, opts.instance ? { instanceId: opts.instance } : {});
      io.err.write(
        `stream: running ${names.join(', ')}${server ? ` (metrics: http://127.0.0.1:${server.port}/metrics)` : ''}\n`,
      );
      try {
        const why = await Promise.race([stopSignal, running.failed]);
        ctx.log.info({ signal: why }, 'draining');
      } finally {
        await running.stop();
        await server?.close();
      }
    });
}
