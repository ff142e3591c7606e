import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { RawDealRecord } from '../schemas/index.ts';

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
  if (typeof v === 'object' && '#text' in (v as Record<string, unknown>))
    return text((v as Record<string, unknown>)['#text']);
  return String(v);
}

function isoOrNull(v: string | null): string | null {
  if (!v) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
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
  // biome-ignore lint/suspicious/noExplicitAny: feed documents are untyped XML trees; every value goes through text()
  const doc = parser.parse(xml) as Record<string, any>;
  const seen = seenAt.toISOString();
  const items: Record<string, unknown>[] = doc.rss?.channel?.item ?? doc.feed?.entry ?? [];
  const title = text(doc.rss?.channel?.title ?? doc.feed?.title);
  const entries = items.map((item): RawDealRecord => {
    const link = text(item.link) ?? text((item.link as Record<string, unknown> | undefined)?.['@_href']);
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
