import { describe, expect, it } from 'vitest';
import { FeedInvalidError, parseFeed } from './rss.ts';

const SEEN = new Date('2026-11-22T18:00:00Z');

describe('parseFeed', () => {
  it('reads RSS 2.0 and Atom, and an empty channel is an empty feed', () => {
    const rss = parseFeed(
      '<rss version="2.0"><channel><title>t</title><item><title>A for $5</title><link>https://x.test/a</link></item></channel></rss>',
      'f',
      SEEN,
    );
    expect(rss.entries.map((e) => [e.title, e.url, e.seen_at])).toEqual([
      ['A for $5', 'https://x.test/a', '2026-11-22T18:00:00.000Z'],
    ]);
    const atom = parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>B</title><link href="https://x.test/b"/></entry></feed>',
      'f',
      SEEN,
    );
    expect(atom.entries.map((e) => e.url)).toEqual(['https://x.test/b']);
    const links = parseFeed(
      '<feed><entry><title>C</title><link rel="self" href="https://x.test/self"/><link rel="alternate" href="https://x.test/c"/></entry></feed>',
      'f',
      SEEN,
    );
    expect(links.entries.map((e) => e.url)).toEqual(['https://x.test/c']);
    expect(parseFeed('<rss><channel></channel></rss>', 'f', SEEN).entries).toEqual([]);
  });

  it('refuses what is not a feed, saying why, instead of reading it as an empty feed', () => {
    expect(() => parseFeed('<!DOCTYPE html><html><body>Oops<br></body></html>', 'shop', SEEN)).toThrow(
      /shop: not an RSS\/Atom feed: malformed XML at line 1/,
    );
    expect(() => parseFeed('<html><body><p>Maintenance</p></body></html>', 'shop', SEEN)).toThrow(
      /root element is <html>/,
    );
    expect(() => parseFeed('{"items": []}', 'api', SEEN)).toThrow(FeedInvalidError);
  });
});
