/**
 * The platform's one notion of "now".
 *
 * Business time — record stamps (`seen_at`, `evaluated_at`, `delivered_at`, ledger times), the
 * default nightly date, expiry and the stream's detection → delivery latency stamps — is read
 * through a {@link Clock}. Durations that only measure elapsed time on this machine (timeouts,
 * poll intervals, rate limits, Kafka's own record timestamps) keep using real time.
 *
 * The clock is set by `clock.now` in the config or `DEALFINDER_NOW` in the environment:
 * - an offset such as `+365d`, `-12h`, `+90m`, `-30s`: real time shifted by that much, so every
 *   process started with the same setting agrees on "now" (use this for the stream);
 * - an instant such as `2027-01-15` or `2027-01-15T08:00:00Z`: the clock reads that instant when
 *   the process first asks, then runs at the real rate.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  now(): Date;
  /** Today's calendar date in UTC (YYYY-MM-DD). */
  todayUtc(): string;
}

/** The environment variable that sets the clock (same as the config's `clock.now`). */
export const CLOCK_ENV = 'DEALFINDER_NOW';

class ShiftedClock implements Clock {
  constructor(private readonly offsetMs: number) {}
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
  now(): Date {
    return new Date(this.nowMs());
  }
  todayUtc(): string {
    return this.now().toISOString().slice(0, 10);
  }
}

/** Real time. */
export const systemClock: Clock = new ShiftedClock(0);

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const OFFSET_RE = /^([+-])(\d+(?:\.\d+)?)([dhms])$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Why a clock setting is not usable (null when it is). Accepts `±N{d,h,m,s}`, `YYYY-MM-DD` (midnight
 * UTC) and ISO instants with an explicit zone.
 */
export function clockSettingProblem(setting: string): string | null {
  const s = setting.trim();
  if (OFFSET_RE.test(s)) return null;
  if (DATE_RE.test(s) || INSTANT_RE.test(s)) {
    const at = Date.parse(DATE_RE.test(s) ? `${s}T00:00:00Z` : s);
    if (Number.isNaN(at)) return `not a real date or time: ${setting}`;
    if (DATE_RE.test(s) && new Date(at).toISOString().slice(0, 10) !== s)
      return `not a calendar date: ${setting}`;
    return null;
  }
  return `expected an offset such as +365d / -12h, a date YYYY-MM-DD or an ISO instant with a zone, got "${setting}"`;
}

/**
 * The clock a setting describes (undefined or blank: real time). `realNowMs` is when an instant
 * setting takes effect. Throws on a setting {@link clockSettingProblem} rejects.
 */
export function clockFor(setting: string | undefined, realNowMs = Date.now()): Clock {
  if (setting === undefined || setting.trim() === '') return systemClock;
  const problem = clockSettingProblem(setting);
  if (problem) throw new RangeError(`clock setting: ${problem}`);
  const s = setting.trim();
  const offset = OFFSET_RE.exec(s);
  if (offset) {
    const [, sign, amount, unit] = offset;
    const ms = Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
    return new ShiftedClock(sign === '-' ? -ms : ms);
  }
  const at = Date.parse(DATE_RE.test(s) ? `${s}T00:00:00Z` : s);
  return new ShiftedClock(at - realNowMs);
}

/** A clock standing still at `at` (tests of code that takes a Clock). */
export function fixedClock(at: Date | string | number): Clock {
  const ms = new Date(at).getTime();
  return {
    nowMs: () => ms,
    now: () => new Date(ms),
    todayUtc: () => new Date(ms).toISOString().slice(0, 10),
  };
}

const byConfig = new WeakMap<object, Clock>();

/**
 * The clock of a loaded config (`config.clock.now`), one per config object, so an instant setting
 * is anchored once and every reader of that config sees the same time.
 */
export function clockOf(config: { readonly clock: { readonly now?: string | undefined } }): Clock {
  let clock = byConfig.get(config);
  if (!clock) {
    clock = clockFor(config.clock.now);
    byConfig.set(config, clock);
  }
  return clock;
}
