/**
 * Crash test on the real broker: the four stages run as separate child processes
 * (`dealctl stream run --stage …`); while deals flow, stage processes are SIGKILLed at random
 * moments and restarted. Afterwards every qualifying deal was notified exactly once (none lost,
 * none twice), deals.parsed holds each deal once, and notifications.outbound (read_committed)
 * records one delivery per qualifying deal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RawDeal, type RawDealRecord } from '../../schemas/index.ts';
import {
  DETECTED_AT_HEADER,
  encode,
  prepareTopics,
  STAGES,
  type StageName,
  streamingContext,
} from '../../streaming/index.ts';
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
const WORKER = path.resolve('test/integration/streaming/worker.ts');
const DEALS = 40;
const qualifies = (i: number) => i % 2 === 0;

svc.describe('streaming crash recovery (real Kafka, SIGKILLed stage processes)', () => {
  let env: StreamEnv;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  const procs = new Map<StageName, ChildProcess>();
  let kills = 0;

  const logs = new Map<StageName, string>();
  let starts = 0;
  const start = (stage: StageName) => {
    const file = path.join(env.root, `${stage}-${++starts}.log`);
    logs.set(stage, file);
    const log = openSync(file, 'a');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, '-c', env.configFile, 'stream', 'run', '--stage', stage],
      { stdio: ['ignore', log, log], env: { ...process.env, DEALFINDER_LOG_LEVEL: 'warn' } },
    );
    procs.set(stage, child);
  };

  beforeAll(async () => {
    receiver = await webhookReceiver();
    env = streamEnv(svc.env.KAFKA_BROKERS!, {
      notify: { channels: [{ type: 'webhook', url: receiver.url }] },
    });
    await writeCatalog(
      env.lake,
      Array.from({ length: DEALS }, (_, i) => ({
        id: `w${i}`,
        title: `Acme Widget W${i} Pro`,
        category: 'Electronics',
        mean: 500,
      })),
    );
    await prepareTopics(streamingContext(env.config, quietLog()), { strict: true });
  });

  afterAll(async () => {
    for (const p of procs.values()) p.kill('SIGKILL');
    await receiver?.close();
    env?.cleanup();
  });

  it('delivers exactly one notification per qualifying deal despite random SIGKILLs', async () => {
    for (const s of STAGES) start(s);
    const producer = await env.client.producer();
    const feeding = (async () => {
      for (let i = 0; i < DEALS; i++) {
        const deal: RawDealRecord = {
          raw_id: `crash-${i}`,
          feed: 'crash-test',
          title: `Acme Widget W${i} Pro for $${qualifies(i) ? 300 : 480}`,
          summary: null,
          url: `https://example.com/widget/${i}`,
          price_text: `$${qualifies(i) ? 300 : 480}`,
          retailer: null,
          deal_type: null,
          category_hint: 'Electronics',
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
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    // Kill a random stage every 1.5–3.5 s while deals flow (and a little after), restart it at once.
    const killUntil = Date.now() + 16_000;
    while (Date.now() < killUntil) {
      await new Promise((r) => setTimeout(r, 1_500 + Math.random() * 2_000));
      const stage = STAGES[Math.floor(Math.random() * STAGES.length)]!;
      procs.get(stage)?.kill('SIGKILL');
      kills++;
      start(stage);
    }
    await feeding;
    await producer.disconnect();

    const expected = Array.from({ length: DEALS }, (_, i) => i).filter(qualifies).length;
    await waitFor(
      `${expected} notifications (have ${receiver.received.length})`,
      () => receiver.received.length >= expected,
      90_000,
    );
    await new Promise((r) => setTimeout(r, 3_000)); // late duplicates would show up here
    const titles = receiver.received.map((r) => String((r.body.opportunity as { title: string }).title));
    expect(kills).toBeGreaterThanOrEqual(4);
    expect(new Set(titles).size).toBe(expected);
    expect(titles).toHaveLength(expected); // no duplicate deliveries
    expect(titles.every((t) => Number(t.match(/W(\d+)/)![1]) % 2 === 0)).toBe(true);

    const parsed = await readTopic(env.client, env.topics.name('parsed'), (m) => m.length >= DEALS);
    expect(parsed).toHaveLength(DEALS);
    expect(new Set(parsed.map((m) => json(m).deal_id)).size).toBe(DEALS);
    const outbound = await readTopic(
      env.client,
      env.topics.name('notifications'),
      (m) => m.length >= expected,
    );
    const delivered = outbound.map(json).filter((n) => n.status === 'delivered');
    expect(new Set(delivered.map((n) => n.deal_id)).size).toBe(expected);
    expect(delivered).toHaveLength(expected);

    // Graceful drain: SIGTERM makes every stage finish its batch, commit, leave the group, exit 0.
    // (A process still loading its modules has no handler yet: wait until each one is running.)
    await waitFor(
      'every stage process running',
      () => STAGES.every((st) => readFileSync(logs.get(st)!, 'utf8').includes('stream: running')),
      60_000,
    );
    const exits = [...procs.values()].map(
      (p) =>
        new Promise<number | null>((resolve) => {
          if (p.exitCode !== null) resolve(p.exitCode);
          else p.once('exit', (code) => resolve(code));
        }),
    );
    for (const p of procs.values()) p.kill('SIGTERM');
    const codes = await Promise.race([
      Promise.all(exits),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no exit 15 s after SIGTERM')), 15_000),
      ),
    ]);
    expect(codes).toEqual([0, 0, 0, 0]);
  });
});
