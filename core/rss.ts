import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { RawDealRecord } from '../schemas/index.ts';
import { DealFinderError } from './errors.ts';

/** A document that is not an RSS 2.0 or Atom feed (an HTML error page, broken XML, …). */
export class FeedInvalidError extends DealFinderError {
  constructor(feed: string, reason: string) {
    super('feed-invalid', `${feed}: not an RSS/Atom feed: ${reason}`, {
      hint: 'check the feed URL or file: it must return RSS 2.0 (<rss><channel>) or Atom (<feed>) XML',
      details: { feed, reason },
    });
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  cdataPropName: false,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => name === 'item' || name === 'entry',
});

function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'object') {
    // An element with attributes: its text, if it has any (<link href="…"/> has none).
    const o = v as Record<string, unknown>;
    return '#text' in o ? text(o['#text']) : null;
  }
  return String(v);
}

function isoOrNull(v: string | null): string | null {
  if (!v) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** Atom: the `href` of the rel="alternate" link (or of the only / first one). */
function atomLink(v: unknown): string | null {
  const links = (Array.isArray(v) ? v : [v]).filter(
    (l): l is Record<string, unknown> => typeof l === 'object' && l !== null,
  );
  const alternate = links.find((l) => (l['@_rel'] ?? 'alternate') === 'alternate') ?? links[0];
  return alternate ? text(alternate['@_href']) : null;
}

export interface ParsedFeed {
  readonly title: string | null;
  readonly entries: RawDealRecord[];
}

/**
 * Parses an RSS 2.0 (with the dealnews: extensions) or Atom feed into raw deals. Nothing is
 * interpreted here (prices stay text): parsing and validation belong to the cleanup rules.
 */
export function parseFeed(
  xml: string,
  feed: string,
  seenAt: Date,
  categoryHint: string | null = null,
): ParsedFeed {
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new FeedInvalidError(feed, `malformed XML at line ${valid.err.line}: ${valid.err.msg}`);
  // biome-ignore lint/suspicious/noExplicitAny: feed documents are untyped XML trees; every value goes through text()
  const doc = parser.parse(xml) as Record<string, any>;
  const isRss = typeof doc.rss === 'object' && doc.rss !== null && 'channel' in doc.rss;
  if (!isRss && !('feed' in doc)) {
    const root = Object.keys(doc).find((k) => !k.startsWith('?')) ?? '(none)';
    throw new FeedInvalidError(feed, `root element is <${root}>, not <rss><channel> or <feed>`);
  }
  const seen = seenAt.toISOString();
  const items: Record<string, unknown>[] = doc.rss?.channel?.item ?? doc.feed?.entry ?? [];
  const title = text(doc.rss?.channel?.title ?? doc.feed?.title);
  const entries = items.map((item): RawDealRecord => {
    const link = text(item.link) ?? atomLink(item.link);
    const guid = text(item.guid) ?? text(item.id) ?? link ?? JSON.stringify(item).slice(0, 200);
    return {
      raw_id: createHash('md5').update(`${feed}|${guid}|${seen}`).digest('hex').slice(0, 20),
      feed,
      title: text(item.title),
      summary: text(item.description) ?? text(item.summary) ?? text(item.content),
      url: link,
      price_text: text(item['dealnews:price']),
      retailer: text(item['dealnews:retailer']),
      deal_type: text(item['dealnews:dealType']),
      category_hint: categoryHint,
      published_at: isoOrNull(text(item.pubDate) ?? text(item.published) ?? text(item.updated)),
      expires_at: isoOrNull(text(item['dealnews:expires'])),
      seen_at: seen,
    };
  });
  return { title, entries };
}

/** A feed request that failed (HTTP status, timeout, connection refused), with the real cause. */
export class FeedFetchError extends DealFinderError {
  constructor(
    url: string,
    reason: string,
    readonly retryAfterMs?: number,
    cause?: unknown,
  ) {
    super('feed-unreachable', `${url}: ${reason}`, {
      hint: 'check that the feed URL answers (curl -I <url>); the scanner retries with backoff',
      retryable: true,
      cause,
      details: { url, reason },
    });
  }
}

export interface FeedRequest {
  readonly timeoutMs: number;
  readonly userAgent: string;
  /** Conditional request: the validators of the last response. */
  readonly etag?: string | undefined;
  readonly lastModified?: string | undefined;
  readonly fetch?: typeof fetch;
}

export type FeedResponse =
  | { readonly notModified: true }
  | {
      readonly notModified: false;
      readonly body: string;
      readonly etag: string | null;
      readonly lastModified: string | null;
    };

/**
 * Reads a feed from an http(s) URL (polite: timeout, user agent, conditional request) or a local
 * file (path or file:// URL). The one reader of the scanner and `dealctl ingest`.
 */
export async function readFeedSource(source: string, request: FeedRequest): Promise<FeedResponse> {
  if (!/^https?:\/\//i.test(source)) {
    const file = source.startsWith('file://') ? new URL(source).pathname : source;
    let body: string;
    try {
      body = readFileSync(file, 'utf8');
    } catch (error) {
      throw new FeedFetchError(
        source,
        `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        undefined,
        error,
      );
    }
    return { notModified: false, body, etag: null, lastModified: statSync(file).mtime.toUTCString() };
  }
  const headers: Record<string, string> = {
    'user-agent': request.userAgent,
    accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8',
  };
  if (request.etag) headers['if-none-match'] = request.etag;
  if (request.lastModified) headers['if-modified-since'] = request.lastModified;
  let res: Response;
  try {
    res = await (request.fetch ?? fetch)(source, {
      headers,
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: 'follow',
    });
  } catch (error) {
    // fetch() says only "fetch failed": the cause (ECONNREFUSED, ENOTFOUND, timeout) is what helps.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${request.timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new FeedFetchError(source, `request failed: ${why}`, undefined, error);
  }
  if (res.status === 304) {
    await res.arrayBuffer().catch(() => undefined);
    return { notModified: true };
  }
  if (!res.ok) {
    await res.arrayBuffer().catch(() => undefined);
    const ra = res.headers.get('retry-after');
    const retryAfterMs = ra
      ? Number.isFinite(Number(ra))
        ? Number(ra) * 1000
        : Date.parse(ra) - Date.now() // an HTTP date of the server's real clock
      : undefined;
    throw new FeedFetchError(source, `HTTP ${res.status}`, retryAfterMs);
  }
  return {
    notModified: false,
    body: await res.text(),
    etag: res.headers.get('etag'),
    lastModified: res.headers.get('last-modified'),
  };
}
