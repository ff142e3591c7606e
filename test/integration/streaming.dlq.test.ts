/**
 * Poison messages on the real broker: malformed JSON, a wrong schema, an oversized message and a
 * raw deal without a price each land in the parse DLQ with their reason while the partition keeps
 * flowing; an estimator that fails for one deal (permanently, or transiently beyond the 3
 * retries) dead-letters only that deal in the price stage.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DealFinderError } from '../../core/errors.ts';
import { type DealRecord, ParsedDeal, RawDeal, type RawDealRecord } from '../../schemas/index.ts';
import {
  encode,
  type PriceEstimator,
  prepareTopics,
  runStages,
  streamingContext,
} from '../../streaming/index.ts';
import { DETECTED_AT_HEADER } from '../../streaming/stage-runner.ts';
import { servicesFor } from '../services/index.js';
import { json, quietLog, readTopic, type StreamEnv, streamEnv, writeCatalog } from './streaming/support.ts';

const svc = await servicesFor('kafka');

function raw(i: number, over: Partial<RawDealRecord> = {}): RawDealRecord {
  return {
    raw_id: `raw-${i}`,
    feed: 'test',
    title: `Acme Gadget G${i} for $${10 + i}`,
    summary: null,
    url: `https://example.com/deal/${i}`,
    price_text: `$${10 + i}`,
    retailer: null,
    deal_type: null,
    category_hint: 'Electronics',
    published_at: null,
    expires_at: null,
    seen_at: new Date().toISOString(),
    ...over,
  };
}

svc.describe('streaming dead letters (real Kafka)', () => {
  let env: StreamEnv;
  // Each test gets its own topics (the stages of one test must not see the other's messages).
  beforeEach(async () => {
    env = streamEnv(svc.env.KAFKA_BROKERS!, { maxMessageBytes: 2048 });
    await writeCatalog(env.lake, []);
    await prepareTopics(streamingContext(env.config, quietLog()), { strict: true });
  });
  afterEach(() => env?.cleanup());

  it('parse: each bad message is dead-lettered with its reason and the partition keeps flowing', async () => {
    const producer = await env.client.producer();
    const key = 'same-partition';
    const topic = env.topics.name('raw');
    const msg = (value: string) => ({
      topic,
      key,
      value,
      headers: { [DETECTED_AT_HEADER]: String(Date.now()) },
    });
    await producer.send([
      msg(encode(RawDeal, raw(1))),
      msg('{"raw_id": "broken", '),
      msg(JSON.stringify({ raw_id: 'x', title: 42 })),
      msg(encode(RawDeal, raw(2, { summary: 'x'.repeat(4000) }))),
      msg(encode(RawDeal, raw(3, { title: 'Acme Gadget without a price', price_text: null }))),
      msg(encode(RawDeal, raw(4))),
    ]);
    await producer.disconnect();
    const ctx = streamingContext(env.config, quietLog());
    const running = await runStages(['parse'], ctx);
    try {
      const dlq = await readTopic(env.client, env.topics.name('dlq.parse'), (m) => m.length >= 4);
      const byCode = Object.fromEntries(dlq.map(json).map((d) => [d.error_code, d]));
      expect(Object.keys(byCode).sort()).toEqual([
        'malformed_json',
        'missing_price',
        'oversized',
        'schema_violation',
      ]);
      expect(byCode.malformed_json).toMatchObject({
        stage: 'parse',
        source_offset: 1,
        payload: '{"raw_id": "broken", ',
      });
      expect(String(byCode.malformed_json!.reason)).toMatch(/not JSON/);
      expect(String(byCode.schema_violation!.reason)).toMatch(/title/);
      expect(byCode.oversized).toMatchObject({ source_offset: 3 });
      expect(Number(byCode.oversized!.payload_bytes)).toBeGreaterThan(2048);
      expect(byCode.missing_price).toMatchObject({
        record_id: 'raw-3',
        reason: 'no price in price text, title or description',
      });
      const parsed = await readTopic(env.client, env.topics.name('parsed'), (m) => m.length >= 2);
      expect(parsed.map(json).map((d) => d.title)).toEqual(['Acme Gadget G1', 'Acme Gadget G4']);
    } finally {
      await running.stop();
    }
  });

  it('price: a failing deal is retried, then dead-lettered alone; the others flow', async () => {
    let transientCalls = 0;
    const flaky: PriceEstimator = {
      name: 'flaky',
      async estimate(deals: readonly DealRecord[]) {
        if (deals.some((d) => d.title === 'Acme Gadget G1'))
          throw new DealFinderError('engine-transient', 'model endpoint timed out', { retryable: true });
        if (deals.some((d) => d.title === 'Acme Gadget G4')) {
          transientCalls++;
          throw new Error('bad input for the model'); // permanent
        }
        return new Map(deals.map((d) => [d.deal_id, { estimate: 1000 }]));
      },
    };
    const producer = await env.client.producer();
    const topic = env.topics.name('parsed');
    const deal = (n: number): DealRecord => ({
      deal_id: `d${n}`.padEnd(16, '0'),
      url: `https://example.com/${n}`,
      link: `https://example.com/${n}`,
      title: `Acme Gadget G${n}`,
      description: '',
      price: 10,
      price_kind: 'exact',
      price_source: 'price_text',
      list_price: null,
      list_price_source: null,
      category: null,
      source: 'test',
      retailer: null,
      event_time: new Date().toISOString(),
      seen_at: new Date().toISOString(),
      expires_at: null,
    });
    await producer.send(
      [1, 2, 3, 4, 5].map((n) => ({ topic, key: 'k', value: encode(ParsedDeal, deal(n)) })),
    );
    await producer.disconnect();
    const ctx = streamingContext(env.config, quietLog());
    const running = await runStages(['price'], ctx, { estimators: [flaky] });
    try {
      const evaluated = await readTopic(env.client, env.topics.name('evaluated'), (m) => m.length >= 3);
      expect(
        evaluated
          .map(json)
          .map((d) => [d.title, d.estimate])
          .sort(),
      ).toEqual([
        ['Acme Gadget G2', 1000],
        ['Acme Gadget G3', 1000],
        ['Acme Gadget G5', 1000],
      ]);
      const dlq = await readTopic(env.client, env.topics.name('dlq.price'), (m) => m.length >= 2);
      const dead = dlq.map(json);
      expect(dead.map((d) => d.record_id).sort()).toEqual(['d100000000000000', 'd400000000000000']);
      const g1 = dead.find((d) => d.record_id === 'd100000000000000')!;
      expect(g1).toMatchObject({ error_code: 'processing_failed' });
      expect(String(g1.reason)).toMatch(/transient failure persisted: model endpoint timed out/);
      expect(transientCalls).toBeGreaterThan(0);
      const text = await ctx.metrics.registry.getSingleMetricAsString('dealfinder_stream_retries_total');
      expect(text).toMatch(/stage="price"} 3/); // 3 retries of the first (whole) batch
    } finally {
      await running.stop();
    }
  });
});
