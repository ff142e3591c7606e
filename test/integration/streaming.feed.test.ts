/**
 * From a feed in real DealNews item shapes to exactly the right notifications, on the real broker
 * with a receiver on loopback: a deal priced only by the feed's own reference price (no price
 * history for the product), a deal priced only in its description, a price drop within 24 h
 * delivered again; a stale item, a store-wide sale, a percent-only discount and a small discount
 * notify nothing. Every date is moved to the suite's clock (feedAsOf).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  openScanner,
  prepareTopics,
  type RunningStages,
  runStages,
  streamingContext,
} from '../../streaming/index.ts';
import { webhookChannel } from '../../streaming/notify/channels.ts';
import { servicesFor } from '../services/index.js';
import { feedAsOf, testClock } from '../support/clock.ts';
import {
  json,
  quietLog,
  readTopic,
  type StreamEnv,
  streamEnv,
  waitFor,
  webhookReceiver,
  writeCatalog,
} from './streaming/support.ts';

const svc = await servicesFor('kafka');
const FIXTURE = path.resolve('test/fixtures/feeds/notify-real-shapes.xml');

svc.describe('streaming: a real-shaped feed notifies exactly the right deals (real Kafka)', () => {
  let env: StreamEnv;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let running: RunningStages | undefined;
  let feed = '';
  /** The fixture with the Sony price set, its newest item published an hour ago on the test clock. */
  const writeFeed = (sonyPrice: string) =>
    writeFileSync(
      feed,
      feedAsOf(readFileSync(FIXTURE, 'utf8').replaceAll('SONY_PRICE', sonyPrice), testClock.now()),
    );

  beforeAll(async () => {
    env = streamEnv(svc.env.KAFKA_BROKERS!, { topics: {} });
    feed = path.join(env.root, 'electronics.xml');
    receiver = await webhookReceiver();
    // Price history for the Sony only: the other deals have no catalog product at all.
    await writeCatalog(env.lake, [
      { id: 'p-sony', title: 'Sony WH-4410 Noise Canceling Headphones', category: 'Electronics', mean: 398 },
    ]);
  });

  afterAll(async () => {
    await running?.stop();
    await receiver?.close();
    env?.cleanup();
  });

  it('delivers the reference-priced deals and the price drop, nothing else', async () => {
    const ctx = streamingContext(env.config, quietLog());
    await prepareTopics(ctx, { strict: true });
    running = await runStages(['parse', 'price', 'evaluate', 'notify'], ctx, {
      channels: [webhookChannel('webhook', receiver.url)],
    });
    const metrics = await ctx.metrics.serve(0);
    const { scanner, close } = await openScanner(ctx);
    try {
      writeFeed('$278');
      const first = await scanner.scanOnce([
        { name: 'dealnews-electronics', url: feed, category: 'Electronics' },
      ]);
      expect(first[0]).toMatchObject({ status: 'published', entries: 7, published: 7 });
      await waitFor('3 notifications', () => receiver.received.length >= 3, 60_000);

      // Later the same day the Sony drops from $278 to $228 (18 %, $50): a new event, notified again.
      writeFeed('$228');
      const second = await scanner.scanOnce([
        { name: 'dealnews-electronics', url: feed, category: 'Electronics' },
      ]);
      expect(second[0]).toMatchObject({ status: 'published', published: 1 });
      await waitFor('4 notifications', () => receiver.received.length >= 4, 60_000);
      // Give anything unexpected the time to arrive: the evaluated topic holds every priced deal.
      await readTopic(env.client, env.topics.name('evaluated'), (m) => m.length >= 5);
      await new Promise((r) => setTimeout(r, 2_000));

      const got = receiver.received.map((r) => {
        const o = r.body.opportunity as Record<string, unknown>;
        return {
          title: o.title,
          price: o.price,
          estimate: o.estimate,
          key: r.key,
          message: String(r.body.message),
        };
      });
      expect(got.map(({ title, price, estimate }) => [title, price, estimate]).sort()).toEqual(
        [
          // Only the feed's reference ("for $149.99 $249.99"): no catalog product, no history.
          ['Acme R-200 Robot Vacuum', 149.99, 249.99],
          // Priced only in the description ("Now $199, down from $399.99"), title entity-decoded.
          ['Dyson V8 Cordless Vacuum – Refurb', 199, 399.99],
          // Price history ($398), then the drop within 24 h.
          ['Sony WH-4410 Noise Canceling Headphones', 228, 398],
          ['Sony WH-4410 Noise Canceling Headphones', 278, 398],
        ].sort(),
      );
      const byPrice = new Map(got.map((g) => [g.price, g]));
      expect(byPrice.get(278)!.key).not.toBe(byPrice.get(228)!.key); // two events, two delivery keys
      const dyson = byPrice.get(199)!;
      expect(dyson.message).toBe(
        'Deal Alert! $199 (est. $399.99, save $200.99): Dyson V8 Cordless Vacuum – Refurb https://www.dealnews.com/Dyson-V8-Cordless-Vacuum/21590003.html?color=Gold',
      );
      for (const g of got) expect([...g.message].length).toBeLessThanOrEqual(200);
      const robot = (await readTopic(env.client, env.topics.name('evaluated'), (m) => m.length >= 5))
        .map(json)
        .find((d) => d.title === 'Acme R-200 Robot Vacuum')!;
      expect(robot).toMatchObject({ list_price: 249.99, list_price_source: 'description', product_id: null });
      expect(JSON.parse(String(robot.estimator_breakdown))).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'price_history', estimate: null, detail: 'no catalog match' }),
          expect.objectContaining({ name: 'feed_reference', estimate: 249.99 }),
        ]),
      );

      // The stale monitor was priced (its "(was $399)") but not notified; the sale and the
      // percent-only discount never became deals; the mug's $12.99 is below the $50 threshold.
      const dlq = await readTopic(env.client, env.topics.name('dlq.parse'), (m) => m.length >= 2);
      expect(dlq.map((m) => json(m).error_code).sort()).toEqual(['discount_not_price', 'sale_without_price']);
      const text = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
      expect(text).toMatch(/dealfinder_stream_skipped_total\{stage="evaluate",reason="stale"\} 1/);
      expect(text).toMatch(/dealfinder_stream_notifications_total\{channel="webhook",status="delivered"\} 4/);
    } finally {
      await close();
      await metrics.close();
    }
  });
});
