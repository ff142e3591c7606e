import type { Command } from 'commander';
import { addDays, yesterdayUtc } from '../../core/lake.ts';
import { DEFAULT_SAMPLE, seedSample } from '../../samples/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseCount, parseDate } from '../options.ts';

export function defineSample(command: Command, { io }: CliSession): void {
  command
    .option('--raw-deals <n>', 'raw deal entries per day', parseCount, DEFAULT_SAMPLE.rawDealsPerDay)
    .option('--days <n>', 'number of days', parseCount, DEFAULT_SAMPLE.days)
    .option('--end-date <YYYY-MM-DD>', 'last day (default: yesterday, UTC)', parseDate)
    .option('--products <n>', 'catalog size', parseCount, DEFAULT_SAMPLE.products)
    .option('--seed <n>', 'random seed', parseCount, DEFAULT_SAMPLE.seed)
    .action(async (opts) => {
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
