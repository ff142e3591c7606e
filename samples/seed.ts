import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../core/config.ts';
import type { Lake } from '../core/lake.ts';
import { duckDbSettings, openDuckDb } from '../jobs/index.ts';
import { generateSample } from './generator.ts';
import { landRawDeals, sampleFeedRecords } from './ingest.ts';

/** The RSS feed bundled with the samples, landed on the last sample day. */
export const BUNDLED_RSS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
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

/** Where seeding writes: the lake, and the config its DuckDB runs with. */
export interface SeedTarget {
  readonly config: Config;
  readonly lake: Lake;
}

/** Generates sample data into the lake and lands the bundled RSS feed on the last day. */
export async function seedSample(
  target: SeedTarget,
  o: SeedOptions,
): Promise<{ dates: string[]; products: number }> {
  // Sample files are written in a fixed row order, so provenance row numbers are reproducible.
  const db = await openDuckDb(duckDbSettings(target.config), { preserveInsertionOrder: true });
  const conn = await db.connect();
  try {
    const result = await generateSample(conn, target.lake, { ...o, days: Math.max(1, o.days) });
    await landRawDeals(
      conn,
      target.lake,
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
