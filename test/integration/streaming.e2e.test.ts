/**
 * End to end on the real broker: the bundled DealNews RSS sample → scanner → parse → price →
 * evaluate → notify → a local HTTP receiver, with a small generated lake (products + one
 * price_trends partition) so that some deals qualify.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listParquet } from '../../core/lake.ts';
import {
  openScanner,
  prepareTopics,
  type RunningStages,
  runStages,
  streamingContext,
  TOPIC_DEFAULTS,
} from '../../streaming/index.ts';
import { webhookChannel } from '../../streaming/notify/channels.ts';
import { servicesFor } from '../services/index.js';
import { feedAsOf, testClock } from '../support/clock.ts';
import { parquet, readRows } from '../support/lake.ts';
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
const BUNDLED = path.resolve('samples/rss/dealnews-electronics.xml');

svc.describe('streaming end to end (real Kafka)', () => {
  let env: StreamEnv;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let running: RunningStages | undefined;
  let SAMPLE = '';

  beforeAll(async () => {
    env = streamEnv(svc.env.KAFKA_BROKERS!, { topics: {} });
    // The bundled feed as published an hour ago on the test clock: its expiry dates move with it.
    SAMPLE = path.join(env.root, 'dealnews-electronics.xml');
    writeFileSync(SAMPLE, feedAsOf(readFileSync(BUNDLED, 'utf8'), testClock.now()));
    receiver = await webhookReceiver({ failFirst: 1 }); // the first delivery gets a 503: retried
    await writeCatalog(env.lake, [
      {
        id: 'p-sony',
        title: 'Sony OK-2741 Noise Canceling Wireless Headphones',
        category: 'Electronics',
        mean: 398,
      },
      { id: 'p-lg', title: 'LG CX-4410 Ultra HD 4K Smart TV', category: 'Electronics', mean: 1799.99 },
      { id: 'p-jbl', title: 'JBL Flip 7 Bluetooth Speaker', category: 'Electronics', mean: 110 },
    ]);
  });

  afterAll(async () => {
    await running?.stop();
    await receiver?.close();
    env?.cleanup();
  });

  it('creates the topics of the topic config with the admin API', async () => {
    const ctx = streamingContext(env.config, quietLog());
    const rows = await prepareTopics(ctx, { strict: true });
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'created'));
    const raw = rows.find((r) => r.topic.endsWith('deals.raw'))!;
    expect(raw.partitions).toEqual({ wanted: 6, actual: 6 });
    expect(raw.retentionHours).toEqual({ wanted: 168, actual: 168 });
    const notif = rows.find((r) => r.topic.endsWith('notifications.outbound'))!;
    expect(notif.partitions.actual).toBe(3);
    expect(notif.retentionHours.actual).toBe(72);
    expect(rows).toHaveLength(TOPIC_DEFAULTS.length);
    // A second check (through `dealctl stream topics`) finds everything in place.
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.resolve('test/integration/streaming/worker.ts'),
        '-c',
        env.configFile,
        'stream',
        'topics',
        '--json',
      ],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DEALFINDER_LOG_LEVEL: 'silent' } },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as { topic: string; status: string }[];
    expect(report.map((r) => r.status)).toEqual(rows.map(() => 'ok'));
  });

  it('delivers one notification per qualifying deal of the RSS sample, DLQs the unpriceable ones', async () => {
    const ctx = streamingContext(env.config, quietLog());
    running = await runStages(['parse', 'price', 'evaluate', 'notify'], ctx, {
      channels: [webhookChannel('webhook', receiver.url)],
    });
    const metrics = await ctx.metrics.serve(0);
    const { scanner, close } = await openScanner(ctx);
    try {
      const reports = await scanner.scanOnce([
        { name: 'dealnews-electronics', url: SAMPLE, category: 'Electronics' },
      ]);
      expect(reports[0]).toMatchObject({ status: 'published', entries: 10, published: 10 });
      // …and archived in the raw zone of the day they were seen, for the nightly.
      const archived = listParquet(env.lake.partitionDir('raw_deals', testClock.todayUtc()));
      expect(archived.map((f) => path.basename(f))).toEqual([
        expect.stringMatching(/^scan-dealnews-electronics-\d{8}T\d{9}Z\.parquet$/),
      ]);
      expect(await readRows(`SELECT count(*)::INT AS n FROM ${parquet(archived[0]!)}`)).toEqual([{ n: 10 }]);

      await waitFor('2 notifications', () => receiver.received.length >= 2, 60_000);
      const notified = receiver.received.map((r) => r.body.opportunity as Record<string, unknown>);
      expect(notified.map((o) => o.title).sort()).toEqual([
        'LG CX-4410 Ultra HD 4K Smart TV',
        'Sony OK-2741 Noise Canceling Wireless Headphones',
      ]);
      const sony = notified.find((o) => String(o.title).startsWith('Sony'))!;
      expect(sony).toMatchObject({ price: 248, estimate: 398, discount: 150 });
      for (const r of receiver.received) {
        expect(String(r.body.message).length).toBeLessThanOrEqual(200);
        const o = r.body.opportunity as { deal_id: string; price: number };
        expect(r.key).toBe(`${o.deal_id}@${o.price}:webhook`);
      }

      const dlq = await readTopic(env.client, env.topics.name('dlq.parse'), (m) => m.length >= 6);
      expect(dlq.map((m) => json(m).error_code).sort()).toEqual([
        'discount_not_price',
        'discount_not_price',
        'expired',
        'from_price',
        'missing_price',
        'non_positive_price',
      ]);
      const parsed = await readTopic(env.client, env.topics.name('parsed'), (m) => m.length >= 3);
      expect(parsed).toHaveLength(3); // Sony (twice in the feed: deduplicated), LG, JBL (2 for $180 → $90)
      for (const m of parsed) expect(m.key).toBe(json(m).deal_id);
      const evaluated = await readTopic(env.client, env.topics.name('evaluated'), (m) => m.length >= 3);
      const jbl = evaluated.map(json).find((d) => String(d.title).startsWith('JBL'))!;
      expect(jbl).toMatchObject({ price: 90, estimate: 110, product_id: 'p-jbl' });
      const outbound = await readTopic(env.client, env.topics.name('notifications'), (m) => m.length >= 2);
      expect(outbound.map(json).map((n) => [n.status, n.attempts])).toEqual(
        expect.arrayContaining([
          ['delivered', expect.any(Number)],
          ['delivered', expect.any(Number)],
        ]),
      );
      expect(outbound).toHaveLength(2);
      expect(outbound.map(json).some((n) => Number(n.attempts) === 2)).toBe(true); // the 503 was retried

      // The scanner remembers what it published: a re-scan publishes nothing.
      const again = await scanner.scanOnce([{ name: 'dealnews-electronics', url: SAMPLE }]);
      expect(again[0]).toMatchObject({ status: 'published', entries: 10, published: 0 });

      const text = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
      expect(text).toMatch(/dealfinder_stream_messages_in_total\{stage="parse"\} 10/);
      expect(text).toMatch(/dealfinder_stream_notifications_total\{channel="webhook",status="delivered"\} 2/);
      expect(text).toMatch(/dealfinder_stream_dead_letters_total\{stage="parse",code="missing_price"\} 1/);
      expect(text).toMatch(/dealfinder_stream_consumer_lag\{stage="notify"/);
      expect(text).toMatch(/dealfinder_stream_detection_to_delivery_seconds_count\{channel="webhook"\} 2/);
    } finally {
      await close();
      await metrics.close();
    }
  });
});
