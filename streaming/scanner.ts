import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logging.ts';
import { FeedFetchError, parseFeed, readFeedSource } from '../core/rss.ts';
import { RawDeal, type RawDealRecord } from '../schemas/index.ts';
import { encode } from './codec.ts';
import type { OutMessage, PlainProducer } from './kafka/client.ts';
import type { StreamMetrics } from './metrics.ts';
import { DETECTED_AT_HEADER } from './stage-runner.ts';
import type { Topics } from './topics.ts';

export interface FeedConfig {
  readonly name: string;
  readonly url: string;
  readonly category?: string | undefined;
}

interface FeedState {
  etag?: string;
  lastModified?: string;
  failures: number;
  nextAttemptAt?: string;
  lastError?: string;
}

export interface ScannerState {
  feeds: Record<string, FeedState>;
  /** Entry key → when it was published. */
  published: Record<string, string>;
}

export interface FeedReport {
  readonly feed: string;
  readonly status: 'published' | 'not_modified' | 'backing_off' | 'failed';
  readonly entries: number;
  readonly published: number;
  readonly error?: string;
}

/** Message keys for raw deals: the deal id the cleanup rules give them (the raw id when invalid). */
export type RawKeyer = (entries: readonly RawDealRecord[]) => Promise<ReadonlyMap<string, string>>;

/**
 * The scanner: reads RSS/Atom feeds (http(s) URLs or files) and publishes new entries to
 * deals.raw. Polite: a timeout per request, conditional requests (ETag / Last-Modified),
 * exponential backoff per failing feed (Retry-After honoured); one failing feed never stops the
 * others. It remembers what it published (state file), so a re-scan publishes only new entries.
 */
export class Scanner {
  private state: ScannerState;

  constructor(
    private readonly deps: {
      readonly producer: PlainProducer;
      readonly topics: Topics;
      readonly config: Config;
      readonly metrics: StreamMetrics;
      readonly log: Logger;
      /** Stamps seen_at and the detection header (core/clock.ts). */
      readonly clock: Clock;
      readonly stateFile: string;
      readonly keyer: RawKeyer;
      /**
       * Lands what a scan is about to publish in the lake's raw zone (batch and stream share one
       * history). Runs before the publish, so a failed archive fails the scan and it is retried.
       */
      readonly archive?: ((records: readonly RawDealRecord[]) => Promise<void>) | undefined;
      readonly fetch?: typeof fetch;
    },
  ) {
    this.state = existsSync(deps.stateFile)
      ? (JSON.parse(readFileSync(deps.stateFile, 'utf8')) as ScannerState)
      : { feeds: {}, published: {} };
  }

  /** Scans every feed once (concurrently), publishes what is new, saves the state. */
  async scanOnce(feeds: readonly FeedConfig[], now = this.deps.clock.now()): Promise<FeedReport[]> {
    const reports = await Promise.all(feeds.map((f) => this.scanFeed(f, now)));
    this.forgetOld(now);
    this.save();
    return reports;
  }

  private async scanFeed(feed: FeedConfig, now: Date): Promise<FeedReport> {
    const st = this.state.feeds[feed.name] ?? { failures: 0 };
    this.state.feeds[feed.name] = st;
    if (st.nextAttemptAt && Date.parse(st.nextAttemptAt) > now.getTime())
      return { feed: feed.name, status: 'backing_off', entries: 0, published: 0, error: st.lastError };
    try {
      const body = await this.fetchFeed(feed, st);
      if (body === null) {
        st.failures = 0;
        delete st.nextAttemptAt;
        return { feed: feed.name, status: 'not_modified', entries: 0, published: 0 };
      }
      const parsed = parseFeed(body, feed.name, now, feed.category ?? null);
      const fresh = parsed.entries.filter((e) => !this.state.published[entryKey(e)]);
      if (fresh.length > 0) await this.deps.archive?.(fresh);
      const keys = await this.deps.keyer(fresh);
      const detectedAt = String(this.deps.clock.nowMs());
      const messages: OutMessage[] = fresh.map((e) => ({
        topic: this.deps.topics.name('raw'),
        key: keys.get(e.raw_id) ?? e.raw_id,
        value: encode(RawDeal, e),
        headers: { [DETECTED_AT_HEADER]: detectedAt },
      }));
      await this.deps.producer.send(messages);
      for (const e of fresh) this.state.published[entryKey(e)] = now.toISOString();
      st.failures = 0;
      delete st.nextAttemptAt;
      delete st.lastError;
      this.deps.metrics.scanned.inc({ feed: feed.name, outcome: 'published' }, fresh.length);
      this.deps.metrics.scanned.inc(
        { feed: feed.name, outcome: 'already_published' },
        parsed.entries.length - fresh.length,
      );
      this.deps.log.info(
        { feed: feed.name, entries: parsed.entries.length, published: fresh.length },
        'feed scanned',
      );
      return {
        feed: feed.name,
        status: 'published',
        entries: parsed.entries.length,
        published: fresh.length,
      };
    } catch (error) {
      st.failures += 1;
      const retryAfter = error instanceof FeedFetchError ? error.retryAfterMs : undefined;
      const backoff = Math.min(
        this.deps.config.streaming.scanner.maxBackoffSeconds * 1000,
        30_000 * 2 ** (st.failures - 1),
      );
      st.nextAttemptAt = new Date(now.getTime() + Math.max(backoff, retryAfter ?? 0)).toISOString();
      st.lastError = (error as Error).message;
      this.deps.metrics.feedErrors.inc({ feed: feed.name });
      this.deps.log.warn(
        { feed: feed.name, err: st.lastError, failures: st.failures, nextAttemptAt: st.nextAttemptAt },
        'feed failed; backing off',
      );
      return { feed: feed.name, status: 'failed', entries: 0, published: 0, error: st.lastError };
    }
  }

  /** The feed body, or null when unchanged since the last scan (HTTP 304). */
  private async fetchFeed(feed: FeedConfig, st: FeedState): Promise<string | null> {
    const cfg = this.deps.config.streaming.scanner;
    const res = await readFeedSource(feed.url, {
      timeoutMs: cfg.timeoutMs,
      userAgent: cfg.userAgent,
      etag: st.etag,
      lastModified: st.lastModified,
      fetch: this.deps.fetch,
    });
    if (res.notModified) return null;
    if (res.etag) st.etag = res.etag;
    if (res.lastModified) st.lastModified = res.lastModified;
    return res.body;
  }

  private forgetOld(now: Date): void {
    const cutoff = now.getTime() - this.deps.config.streaming.scanner.rememberDays * 86_400_000;
    for (const [k, at] of Object.entries(this.state.published))
      if (Date.parse(at) < cutoff) delete this.state.published[k];
  }

  private save(): void {
    mkdirSync(path.dirname(this.deps.stateFile), { recursive: true });
    const tmp = `${this.deps.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.deps.stateFile);
  }

  /** Feed state (for `dealctl stream scan` output and tests). */
  snapshot(): ScannerState {
    return structuredClone(this.state);
  }
}

/** What the scanner remembers an entry by: feed + link + title (stable across scans, unlike raw_id). */
export function entryKey(e: RawDealRecord): string {
  return createHash('md5')
    .update(`${e.feed}|${e.url ?? ''}|${e.title ?? ''}`)
    .digest('hex')
    .slice(0, 20);
}
