/**
 * Two members per consumer group on the real broker: a second pipeline instance joins mid-stream
 * (every stage's group rebalances), then the first one drains and leaves (another rebalance).
 * Every qualifying deal is notified exactly once and every topic holds each deal once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RawDeal, type RawDealRecord } from '../../schemas/index.ts';
import {
  DETECTED_AT_HEADER,
  encode,
  prepareTopics,
  type RunningStages,
  runStages,
  STAGES,
  streamingContext,
} from '../../streaming/index.ts';
import { webhookChannel } from '../../streaming/notify/channels.ts';
import { servicesFor } from '../services/index.js';
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
const DEALS = 60;
const qualifies = (i: number) => i % 3 !== 0;

svc.describe('streaming rebalance (real Kafka, two members per group)', () => {
  let env: StreamEnv;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  const running: RunningStages[] = [];

  beforeAll(async () => {
    receiver = await webhookReceiver();
    env = streamEnv(svc.env.KAFKA_BROKERS!);
    await writeCatalog(
      env.lake,
      Array.from({ length: DEALS }, (_, i) => ({
        id: `r${i}`,
        title: `Zeta Drone Z${i} Max`,
        category: 'Electronics',
        mean: 900,
      })),
    );
    await prepareTopics(streamingContext(env.config, quietLog()), { strict: true });
  });

  afterAll(async () => {
    for (const r of running) await r.stop().catch(() => undefined);
    await receiver?.close();
    env?.cleanup();
  });

  it('rebalances mid-stream without losing or duplicating a deal', async () => {
    const contexts = new Map<string, ReturnType<typeof streamingContext>>();
    const member = (id: string) => {
      const ctx = streamingContext(env.config, quietLog());
      contexts.set(id, ctx);
      return runStages(STAGES, ctx, { instanceId: id, channels: [webhookChannel('webhook', receiver.url)] });
    };
    const a = await member('a');
    running.push(a);
    const producer = await env.client.producer();
    let b: RunningStages | undefined;
    for (let i = 0; i < DEALS; i++) {
      const price = qualifies(i) ? 600 : 880;
      const deal: RawDealRecord = {
        raw_id: `rb-${i}`,
        feed: 'rebalance-test',
        title: `Zeta Drone Z${i} Max for $${price}`,
        summary: null,
        url: `https://example.com/drone/${i}`,
        price_text: `$${price}`,
        retailer: null,
        deal_type: null,
        category_hint: null,
        published_at: null,
        expires_at: null,
        seen_at: new Date().toISOString(),
      };
      await producer.send([
        {
          topic: env.topics.name('raw'),
          key: `k${i}`,
          value: encode(RawDeal, deal),
          headers: { [DETECTED_AT_HEADER]: String(Date.now()) },
        },
      ]);
      if (i === 15) {
        b = await member('b'); // joins: every group rebalances while deals flow
        running.push(b);
      }
      if (i === 40) await a.stop(); // drains and leaves: rebalance again, b takes every partition
      await new Promise((r) => setTimeout(r, 100));
    }
    await producer.disconnect();
    const expected = Array.from({ length: DEALS }, (_, i) => i).filter(qualifies).length;
    await waitFor('all notifications', () => receiver.received.length >= expected, 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const keys = receiver.received.map((r) => r.key);
    expect(new Set(keys).size).toBe(expected);
    expect(keys).toHaveLength(expected);

    const parsed = await readTopic(env.client, env.topics.name('parsed'), (m) => m.length >= DEALS);
    expect(new Set(parsed.map((m) => json(m).deal_id)).size).toBe(DEALS);
    expect(parsed).toHaveLength(DEALS);
    const opportunities = await readTopic(
      env.client,
      env.topics.name('opportunities'),
      (m) => m.length >= expected,
    );
    expect(opportunities).toHaveLength(expected);
    const outbound = await readTopic(
      env.client,
      env.topics.name('notifications'),
      (m) => m.length >= expected,
    );
    expect(outbound.map(json).filter((n) => n.status === 'delivered')).toHaveLength(expected);
    expect(outbound).toHaveLength(expected);
    expect(b).toBeDefined();
    // Both members really took part: each consumed messages in every stage.
    for (const id of ['a', 'b']) {
      const consumed = (await contexts.get(id)!.metrics.messagesIn.get()).values;
      for (const stage of STAGES)
        expect(consumed.find((v) => v.labels.stage === stage)?.value ?? 0, `${id}/${stage}`).toBeGreaterThan(
          0,
        );
    }
  });
});
