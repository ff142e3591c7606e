import { readFileSync } from 'node:fs';
import { parseFeed } from '../core/rss.ts';
import type { RawDealRecord } from '../schemas/index.ts';

// The raw zone's writer lives in ingest/ (one implementation for sample, ingest and scanner).
export { landRawDeals, writeRawDeals } from '../ingest/raw-zone.ts';

/**
 * Reads a bundled RSS file and rebases its item times so the newest publication falls at noon of
 * `date` (keeping the offsets between items), so the sample feed is always "yesterday's".
 */
export function sampleFeedRecords(
  file: string,
  date: string,
  feed: string,
  categoryHint: string,
): RawDealRecord[] {
  const xml = readFileSync(file, 'utf8');
  const noon = Date.parse(`${date}T12:00:00Z`);
  const parsed = parseFeed(xml, feed, new Date(noon), categoryHint).entries;
  const newest = Math.max(...parsed.map((e) => (e.published_at ? Date.parse(e.published_at) : 0)));
  const shift = noon - newest;
  const move = (ts: string | null) => (ts ? new Date(Date.parse(ts) + shift).toISOString() : null);
  return parsed.map((e, i) => ({
    ...e,
    published_at: move(e.published_at),
    expires_at: move(e.expires_at),
    seen_at: new Date(noon + 60_000 * (i + 1)).toISOString(),
  }));
}
