/**
 * bench/stream: the real-time path on the real broker — all four stages in this process
 * (transactional read-process-write, read_committed), raw deals offered at a fixed rate for a
 * bounded time, notifications delivered to a local HTTP receiver. Prints the sustained
 * deals/s through all stages and the detection-to-delivery latency p50/p95/p99 next to the
 * targets (≥ 2,000 deals/s sustained, p95 < 250 ms). Uses $KAFKA_BROKERS, else starts (or
 * reuses) the harness broker.
 *
 *   npm run bench -- stream [--rate 2000] [--seconds 15] [--qualifying 0.1] [--in-process]
 *
 * By default each stage runs in its own process (`dealctl stream run --stage <s>`, the
 * production topology); --in-process runs all four in this one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RawDeal, type RawDealRecord } from '../schemas/index.ts';
import {
  DETECTED_AT_HEADER,
  encode,
  type OutMessage,
  prepareTopics,
  runStages,
  STAGES,
  streamingContext,
} from '../streaming/index.ts';
import { webhookChannel } from '../streaming/notify/channels.ts';
import { quietLog, streamEnv, webhookReceiver, writeCatalog } from '../test/integration/streaming/support.ts';

const TARGET_RATE = 2_000;
const TARGET_P95_MS = 250;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function brokers(): Promise<string> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const { up } = await import('../test/services/harness.ts');
  return (await up(['kafka'])).KAFKA_BROKERS!;
}

async function main(): Promise<void> {
  const rate = arg('rate', TARGET_RATE);
  const seconds = arg('seconds', 15);
  const qualifying = arg('qualifying', 0.1);
  const products = 500;
  const total = Math.round(rate * seconds);

  const receiver = await webhookReceiver();
  const children: ChildProcess[] = [];
  const env = streamEnv(await brokers(), {
    topics: {},
    maxWaitMs: 20,
    notify: { channels: [{ type: 'webhook', url: receiver.url }] },
  });
  try {
    await writeCatalog(
      env.lake,
      Array.from({ length: products }, (_, j) => ({
        id: `b${j}`,
        title: `Bench Item B${j} Model`,
        category: 'Electronics',
        mean: 400,
      })),
    );
    const ctx = streamingContext(env.config, quietLog());
    await prepareTopics(ctx, { strict: true });
    const inProcess = process.argv.includes('--in-process');
    const metricsPorts = new Map<string, number>();
    const running = inProcess
      ? await runStages(STAGES, ctx, { channels: [webhookChannel('webhook', receiver.url)] })
      : undefined;
    if (!inProcess) {
      const worker = path.resolve(import.meta.dirname, '../test/integration/streaming/worker.ts');
      for (const stage of STAGES) {
        const log = openSync(path.join(env.root, `${stage}.log`), 'a');
        const port = await freePort();
        metricsPorts.set(stage, port);
        children.push(
          spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              worker,
              '-c',
              env.configFile,
              'stream',
              'run',
              '--stage',
              stage,
              '--metrics-port',
              String(port),
            ],
            {
              stdio: ['ignore', log, log],
              env: { ...process.env, DEALFINDER_LOG_LEVEL: 'warn' },
            },
          ),
        );
      }
    }
    // Deals through the evaluate stage, from its metrics (offsets would also count transaction markers).
    const evaluated = async (): Promise<number> => {
      if (inProcess)
        return (
          (await ctx.metrics.messagesIn.get()).values.find((v) => v.labels.stage === 'evaluate')?.value ?? 0
        );
      try {
        const text = await (await fetch(`http://127.0.0.1:${metricsPorts.get('evaluate')}/metrics`)).text();
        return Number(/dealfinder_stream_messages_in_total\{stage="evaluate"\} (\d+)/.exec(text)?.[1] ?? 0);
      } catch {
        return 0;
      }
    };
    // Warm-up: wait (bounded) until every stage's group is up, by pushing one deal through.
    const warm = await env.client.producer();
    const warmRaw: RawDealRecord = {
      raw_id: 'warm-up',
      feed: 'bench',
      title: 'Bench Item B0 Model for $250',
      summary: null,
      url: 'https://example.com/bench/warm-up',
      price_text: '$250',
      retailer: null,
      deal_type: null,
      category_hint: 'Electronics',
      published_at: null,
      expires_at: null,
      seen_at: new Date().toISOString(),
    };
    await warm.send([{ topic: env.topics.name('raw'), key: 'warm', value: encode(RawDeal, warmRaw) }]);
    await warm.disconnect();
    const warmDeadline = Date.now() + 90_000;
    while (receiver.received.length < 1 && Date.now() < warmDeadline)
      await new Promise((r) => setTimeout(r, 100));
    if (receiver.received.length < 1) throw new Error('the stages did not come up within 90 s');
    receiver.received.length = 0;
    const base = await evaluated();
    const producer = await env.client.producer();
    const topic = env.topics.name('raw');

    const tickMs = 50;
    const perTick = rate / (1000 / tickMs);
    let sent = 0;
    let expectedNotifications = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const startedAt = Date.now();
    process.stderr.write(
      `offering ${rate} deals/s for ${seconds} s (${total} deals, ${qualifying * 100}% qualifying)…\n`,
    );
    let lateTicks = 0;
    while (sent < total) {
      const due = Math.min(total, Math.round(((performance.now() - t0) / tickMs + 1) * perTick));
      const batch: OutMessage[] = [];
      const now = new Date();
      for (; sent < due; sent++) {
        const q = sent % Math.round(1 / qualifying) === 0;
        if (q) expectedNotifications++;
        const price = q ? 250 : 390;
        const raw: RawDealRecord = {
          raw_id: `bench-${sent}`,
          feed: 'bench',
          title: `Bench Item B${sent % products} Model for $${price}`,
          summary: null,
          url: `https://example.com/bench/${sent}`,
          price_text: `$${price}`,
          retailer: null,
          deal_type: null,
          category_hint: 'Electronics',
          published_at: null,
          expires_at: null,
          seen_at: now.toISOString(),
        };
        batch.push({
          topic,
          key: `k${sent}`,
          value: encode(RawDeal, raw),
          headers: { [DETECTED_AT_HEADER]: String(Date.now()) },
        });
      }
      if (batch.length > 0) await producer.send(batch);
      const next = t0 + (Math.round((performance.now() - t0) / tickMs) + 1) * tickMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else lateTicks++;
    }
    const offeredSeconds = (performance.now() - t0) / 1000;
    await producer.disconnect();
    // Drain: wait (bounded) until every deal went through evaluate and every notification arrived.
    const deadline = Date.now() + Math.max(30_000, seconds * 3_000);
    let doneAt = 0;
    while (Date.now() < deadline) {
      if ((await evaluated()) - base >= total && receiver.received.length >= expectedNotifications) {
        doneAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpu = process.cpuUsage(cpu0);
    const throughputDone = Math.min(total, (await evaluated()) - base);
    const elapsed = ((doneAt || performance.now()) - t0) / 1000;
    await running?.stop();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );

    const latencies = receiver.received
      .map((r) => {
        const o = r.body.opportunity as { url: string };
        const n = Number(/\/bench\/(\d+)$/.exec(o.url)?.[1]);
        return Number.isFinite(n) ? r.at - startedAt - (n / rate) * 1000 : Number.NaN;
      })
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const batches = (await ctx.metrics.batchSeconds.get()).values;
    const commits = (await ctx.metrics.commitSeconds.get()).values;
    const perStage = STAGES.map((stage) => {
      const sum = batches.find((v) => v.labels.stage === stage && v.metricName?.endsWith('_sum'))?.value ?? 0;
      const count =
        batches.find((v) => v.labels.stage === stage && v.metricName?.endsWith('_count'))?.value ?? 0;
      const csum =
        commits.find((v) => v.labels.stage === stage && v.metricName?.endsWith('_sum'))?.value ?? 0;
      return `${stage} ${count} batches, ${((sum / Math.max(1, count)) * 1000).toFixed(0)} ms avg (commit ${((csum / Math.max(1, count)) * 1000).toFixed(0)})`;
    });
    const metricsText = await ctx.metrics.registry.metrics();
    const sustained = throughputDone / elapsed;
    const p = (q: number) => quantile(latencies, q);
    const lines = [
      '',
      `bench/stream — Kafka (real broker), 4 stages ${inProcess ? 'in one process' : 'in 4 processes'}, transactional, 2 cores shared with the broker`,
      `offered:      ${rate} deals/s for ${offeredSeconds.toFixed(1)} s = ${total} deals (${lateTicks} late producer ticks)`,
      `processed:    ${throughputDone}/${total} deals through evaluate, ${receiver.received.length}/${expectedNotifications} notifications delivered${doneAt ? '' : ' (DRAIN TIMED OUT)'}`,
      `sustained:    ${sustained.toFixed(0)} deals/s end to end (all deals in ${elapsed.toFixed(2)} s)   target ≥ ${TARGET_RATE} deals/s: ${sustained >= TARGET_RATE && doneAt ? 'MET' : 'NOT MET'}`,
      `latency (detection → delivery, ms): p50 ${p(0.5).toFixed(0)}  p95 ${p(0.95).toFixed(0)}  p99 ${p(0.99).toFixed(0)}  max ${(latencies.at(-1) ?? Number.NaN).toFixed(0)}   target p95 < ${TARGET_P95_MS} ms: ${p(0.95) < TARGET_P95_MS ? 'MET' : 'NOT MET'}`,
      ...(inProcess
        ? [
            `per stage:    ${perStage.join(' | ')}`,
            `node CPU:     ${((cpu.user + cpu.system) / 1000 / total).toFixed(3)} ms per deal (all 4 stages + producer + receiver; the broker's CPU is extra)`,
          ]
        : []),
      `machine:      load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} cores at the end of the run`,
      `(plan figures: 1,000 deals/hour, p95 < 30 s)`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (process.argv.includes('--metrics')) process.stdout.write(`${metricsText}\n`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await receiver.close();
    env.cleanup();
  }
}

await main();
process.exit(0);
