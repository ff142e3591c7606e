/**
 * The scanner against a local HTTP feed server and the real broker: conditional requests
 * (ETag → 304), a failing feed backs off without stopping the others, published entries are
 * remembered across scanner restarts, and raw deals are keyed by their deal id.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openScanner, prepareTopics, streamingContext } from '../../streaming/index.ts';
import { servicesFor } from '../services/index.js';
import { feedAsOf, testClock } from '../support/clock.ts';
import { json, quietLog, readTopic, type StreamEnv, streamEnv } from './streaming/support.ts';

const svc = await servicesFor('kafka');
// The bundled sample, its items published an hour before the test clock's now (the Sony offer
// expires a week after publication, so it stays a valid deal on any date).
const XML = feedAsOf(
  readFileSync(path.resolve('samples/rss/dealnews-electronics.xml'), 'utf8'),
  testClock.now(),
);

svc.describe('streaming scanner (real Kafka, local feed server)', () => {
  let env: StreamEnv;
  let server: Server;
  let base = '';
  const requests: { url: string; ifNoneMatch: string | undefined; ua: string | undefined }[] = [];

  beforeAll(async () => {
    env = streamEnv(svc.env.KAFKA_BROKERS!);
    server = createServer((req, res) => {
      requests.push({
        url: req.url ?? '',
        ifNoneMatch: req.headers['if-none-match'],
        ua: req.headers['user-agent'],
      });
      if (req.url === '/broken') {
        res.writeHead(503, { 'retry-after': '120' });
        res.end();
      } else if (req.headers['if-none-match'] === '"v1"' && !req.url?.includes('v=2')) {
        res.writeHead(304);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"' });
        res.end(XML);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await prepareTopics(streamingContext(env.config, quietLog()), { strict: true });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    env?.cleanup();
  });

  it('fetches politely, isolates a failing feed, and publishes each entry once', async () => {
    const feeds = [
      { name: 'electronics', url: `${base}/c142?rss=1` },
      { name: 'broken', url: `${base}/broken` },
    ];
    const ctx = streamingContext(env.config, quietLog());
    const first = await openScanner(ctx);
    const r1 = await first.scanner.scanOnce(feeds);
    expect(r1).toEqual([
      { feed: 'electronics', status: 'published', entries: 10, published: 10 },
      {
        feed: 'broken',
        status: 'failed',
        entries: 0,
        published: 0,
        error: expect.stringMatching(/HTTP 503/),
      },
    ]);
    const broken = first.scanner.snapshot().feeds.broken!;
    // Retry-After: 120 s, from the scan's time on the clock
    expect(Date.parse(broken.nextAttemptAt!) - testClock.nowMs()).toBeGreaterThan(100_000);
    const r2 = await first.scanner.scanOnce(feeds);
    expect(r2.map((r) => r.status)).toEqual(['not_modified', 'backing_off']);
    expect(requests.filter((r) => r.url === '/broken')).toHaveLength(1); // no request while backing off
    expect(requests.at(-1)).toMatchObject({
      ifNoneMatch: '"v1"',
      ua: expect.stringMatching(/^DealFinderScanner/),
    });
    await first.close();

    // A restarted scanner remembers what was published (the server now ignores ETags: 200 again).
    requests.length = 0;
    const second = await openScanner(ctx);
    const r3 = await second.scanner.scanOnce([{ name: 'electronics', url: `${base}/c142?rss=1&v=2` }]);
    expect(r3[0]).toMatchObject({ status: 'published', entries: 10, published: 0 });
    await second.close();

    const raw = await readTopic(env.client, env.topics.name('raw'), (m) => m.length >= 10);
    expect(raw).toHaveLength(10);
    const sony = raw.filter((m) => String(json(m).title).startsWith('Sony'));
    expect(sony).toHaveLength(2); // the same deal from two category pages…
    expect(sony[0]!.key).toBe(sony[1]!.key); // …keyed by one deal id, so one partition keeps its order
    expect(sony[0]!.key).toMatch(/^[0-9a-f]{16}$/);
  });
});
