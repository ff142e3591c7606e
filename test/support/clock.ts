/**
 * The clock the suite runs on. `DEALFINDER_NOW` (an offset such as `+365d`, or an instant) moves
 * it; the test configs built by the support helpers carry the same setting, so the code under test
 * and the fixtures agree on "now". `npm test` runs the date-sensitive files a second and third time
 * with the clock a year ahead and a year back (vitest.config.ts, projects `clock+1y` / `clock-1y`).
 */
import { type Clock, clockFor } from '../../core/clock.ts';

/** The suite's clock setting (undefined: real time). */
export const testClockSetting: string | undefined = process.env.DEALFINDER_NOW || undefined;

/** The clock of this test worker, on the same setting as the configs the helpers build. */
export const testClock: Clock = clockFor(testClockSetting);

const PUB_RE = /<pubDate>([^<]+)<\/pubDate>/g;
const EXPIRES_RE = /<dealnews:expires>([^<]+)<\/dealnews:expires>/g;

/**
 * An RSS document with every item time moved by one shift so that its newest `pubDate` falls
 * `ageMs` before `now`; expiry dates move with it, so what was valid (or expired) stays so.
 */
export function feedAsOf(xml: string, now: Date, ageMs = 3_600_000): string {
  const published = [...xml.matchAll(PUB_RE)].map((m) => Date.parse(m[1]!));
  if (published.length === 0 || published.some(Number.isNaN))
    throw new Error('feedAsOf: every item needs a parseable <pubDate>');
  const shift = now.getTime() - ageMs - Math.max(...published);
  return xml
    .replace(PUB_RE, (_, t: string) => `<pubDate>${new Date(Date.parse(t) + shift).toUTCString()}</pubDate>`)
    .replace(
      EXPIRES_RE,
      (_, t: string) =>
        `<dealnews:expires>${new Date(Date.parse(t) + shift).toISOString()}</dealnews:expires>`,
    );
}
