import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addDays, yesterdayUtc } from '../../core/lake.ts';
import { duckDbSettings, openDuckDb } from '../../jobs/index.ts';
import { DEFAULT_SAMPLE, generateSample } from '../../samples/generator.ts';
import { landRawDeals, sampleFeedRecords } from '../../samples/ingest.ts';
import { type CliContext, contextOf } from '../context.ts';
import type { CliIo } from '../main.ts';
import { parseCount, parseDate } from './nightly.ts';

export const BUNDLED_RSS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'samples',
  'rss',
  'dealnews-electronics.xml',
);

export interface SeedOptions {
  endDate: string;
  days: number;
  rawDealsPerDay: number;
  products: number;
  seed: number;
}

/** Generates sample data into the lake and lands the bundled RSS feed on the last day. */
export async function seedSample(
  ctx: CliContext,
  o: SeedOptions,
): Promise<{ dates: string[]; products: number }> {
  // Sample files are written in a fixed row order, so provenance row numbers are reproducible.
  const db = await openDuckDb(duckDbSettings(ctx.config), { preserveInsertionOrder: true });
  const conn = await db.connect();
  try {
    const result = await generateSample(conn, ctx.lake, { ...o, days: Math.max(1, o.days) });
    await landRawDeals(
      conn,
      ctx.lake,
      o.endDate,
      'rss-dealnews-electronics',
      sampleFeedRecords(BUNDLED_RSS, o.endDate, 'dealnews-electronics', 'Electronics'),
    );
    return { dates: result.days.map((d) => d.date), products: result.products };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

export function sampleCommand(io: CliIo): Command {
  return new Command('sample')
    .description(
      'Generate deterministic sample data (catalog + raw deal feeds with real-world dirt) into the lake.',
    )
    .option('--raw-deals <n>', 'raw deal entries per day', parseCount, DEFAULT_SAMPLE.rawDealsPerDay)
    .option('--days <n>', 'number of days', parseCount, DEFAULT_SAMPLE.days)
    .option('--end-date <YYYY-MM-DD>', 'last day (default: yesterday, UTC)', parseDate)
    .option('--products <n>', 'catalog size', parseCount, DEFAULT_SAMPLE.products)
    .option('--seed <n>', 'random seed', parseCount, DEFAULT_SAMPLE.seed)
    .action(async (opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const endDate = opts.endDate ?? yesterdayUtc(ctx.clock);
      const t0 = performance.now();
      const r = await seedSample(ctx, {
        endDate,
        days: opts.days,
        rawDealsPerDay: opts.rawDeals,
        products: opts.products,
        seed: opts.seed,
      });
      io.out.write(
        `Wrote ${r.products.toLocaleString('en-US')} products and ${r.dates.length} day(s) of ${opts.rawDeals.toLocaleString('en-US')} raw deals (${addDays(endDate, 1 - r.dates.length)} … ${endDate}) to ${ctx.lake.root} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    });
}
