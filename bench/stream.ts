/**
 * bench/stream: the real-time path on the real broker (transactional read-process-write,
 * read_committed): raw deals offered at a fixed rate for a bounded time after a warm-up at the
 * same rate, the four stages in their own processes (`dealctl stream run --stage <s>`, the
 * production topology; --in-process: all in this one), notifications delivered to a local HTTP
 * receiver. Prints the sustained deals/s through all stages (the offered rate when the pipeline
 * kept up with it, else the rate it managed), detection-to-delivery latency p50/p95/p99 from each
 * deal's scheduled offer time, latency over the run, per-stage step/commit times and CPU per deal
 * by component (stages, bench, broker), next to the targets (≥ 2,000 deals/s sustained, p95 <
 * 250 ms). Uses $KAFKA_BROKERS, else starts (or reuses) the harness broker.
 *
 *   npm run bench -- stream [--rate 2000] [--seconds 15] [--qualifying 0.1] [--warmup 3] [--max-wait 20] [--in-process]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clockOf } from '../core/clock.ts';
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
import { quietLog, streamEnv, webhookReceiver, writeCatalog } from './support/streaming.ts';

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

/** CPU seconds (user + system) a process used so far, from /proc (Linux); NaN when unreadable. */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

/** Pids of the Kafka broker JVM(s) on this machine (the harness runs kafka.Kafka), for CPU accounting. */
function brokerPids(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka'))
        pids.push(Number(d));
    } catch {
      // gone
    }
  }
  return pids;
}

async function brokers(): Promise<string> {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const { servicesUp } = await import('./support/services.ts');
  return servicesUp(['kafka']).KAFKA_BROKERS!;
}

async function main(): Promise<void> {
  const rate = arg('rate', TARGET_RATE);
  const seconds = arg('seconds', 15);
  const qualifying = arg('qualifying', 0.1);
  const warmupSeconds = arg('warmup', 3);
  const products = 500;
  const total = Math.round(rate * seconds);

  const receiver = await webhookReceiver();
  const children: ChildProcess[] = [];
  const env = streamEnv(await brokers(), {
    topics: {},
    maxWaitMs: arg('max-wait', 20),
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
              // e.g. STREAM_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the stages
              ...(process.env.STREAM_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
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
    const producer = await env.client.producer();
    const topic = env.topics.name('raw');
    const tickMs = 10;

    /** Offers `count` raw deals at `rate`/s, scheduled from `t0`; `path` keeps runs apart. */
    const offer = async (count: number, path: string, t0: number) => {
      const perTick = rate / (1000 / tickMs);
      let sent = 0;
      let notifications = 0;
      let lateTicks = 0;
      while (sent < count) {
        const due = Math.min(count, Math.round(((performance.now() - t0) / tickMs + 1) * perTick));
        const batch: OutMessage[] = [];
        // The stages stamp delivery on the config's clock: detection must be on the same one.
        const now = clockOf(env.config).now();
        for (; sent < due; sent++) {
          const q = sent % Math.round(1 / qualifying) === 0;
          if (q) notifications++;
          const price = q ? 250 : 390;
          const raw: RawDealRecord = {
            raw_id: `${path}-${sent}`,
            feed: 'bench',
            title: `Bench Item B${sent % products} Model for $${price}`,
            summary: null,
            url: `https://example.com/${path}/${sent}`,
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
            key: `${path}${sent}`,
            value: encode(RawDeal, raw),
            headers: { [DETECTED_AT_HEADER]: String(now.getTime()) },
          });
        }
        if (batch.length > 0) await producer.send(batch);
        const next = t0 + (Math.round((performance.now() - t0) / tickMs) + 1) * tickMs;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else lateTicks++;
      }
      return { notifications, lateTicks };
    };

    // Warm-up at the offered rate (JIT, DuckDB, connections), not measured: the run below
    // measures the steady state. Bounded wait for it to drain.
    const warmCount = Math.round(rate * warmupSeconds);
    if (warmCount > 0) {
      process.stderr.write(`warming up: ${rate} deals/s for ${warmupSeconds} s (not measured)…\n`);
      const base0 = await evaluated();
      const w = await offer(warmCount, 'warm', performance.now());
      const warmDrain = Date.now() + 60_000;
      while (
        Date.now() < warmDrain &&
        !((await evaluated()) - base0 >= warmCount && receiver.received.length >= w.notifications)
      )
        await new Promise((r) => setTimeout(r, 50));
    }
    receiver.received.length = 0;
    const base = await evaluated();

    const cpu0 = process.cpuUsage();
    const broker = brokerPids();
    const cpuOf = () => ({
      children: children.map((c) => procCpuSeconds(c.pid ?? -1)),
      broker: broker.reduce((a, pid) => a + procCpuSeconds(pid), 0),
    });
    const procCpu0 = cpuOf();
    const t0 = performance.now();
    const startedAt = Date.now();
    process.stderr.write(
      `offering ${rate} deals/s for ${seconds} s (${total} deals, ${qualifying * 100}% qualifying)…\n`,
    );
    const { notifications: expectedNotifications, lateTicks } = await offer(total, 'bench', t0);
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
    const procCpu1 = cpuOf();
    const throughputDone = Math.min(total, (await evaluated()) - base);
    const elapsed = ((doneAt || performance.now()) - t0) / 1000;
    // Per-stage step and commit times, from each stage's /metrics (or this process's registry).
    const stageMetrics = new Map<string, string>();
    for (const stage of STAGES) {
      const port = metricsPorts.get(stage);
      stageMetrics.set(
        stage,
        port
          ? await fetch(`http://127.0.0.1:${port}/metrics`)
              .then((r) => r.text())
              .catch(() => '')
          : await ctx.metrics.registry.metrics(),
      );
    }
    await running?.stop();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );

    // Latency over the run: p50/p95 of the deals offered in each tenth of the offered time.
    const byTenth = Array.from({ length: 10 }, () => [] as number[]);
    for (const r of receiver.received) {
      const n = Number(/\/bench\/(\d+)$/.exec((r.body.opportunity as { url: string }).url)?.[1]);
      if (Number.isFinite(n))
        byTenth[Math.min(9, Math.floor((n / total) * 10))]!.push(r.at - startedAt - (n / rate) * 1000);
    }
    const timeline = byTenth
      .map((l) => l.sort((a, b) => a - b))
      .map((l) => `${quantile(l, 0.5).toFixed(0)}/${quantile(l, 0.95).toFixed(0)}`)
      .join(' ');
    const latencies = receiver.received
      .map((r) => {
        const o = r.body.opportunity as { url: string };
        const n = Number(/\/bench\/(\d+)$/.exec(o.url)?.[1]);
        return Number.isFinite(n) ? r.at - startedAt - (n / rate) * 1000 : Number.NaN;
      })
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const perStage = STAGES.map((stage) => {
      const text = stageMetrics.get(stage) ?? '';
      const value = (name: string) =>
        Number(new RegExp(`^${name}\\{stage="${stage}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      const count = value('dealfinder_stream_batch_seconds_count');
      const avg = (name: string) => ((value(name) / Math.max(1, count)) * 1000).toFixed(0);
      return `${stage} ${count} steps, ${avg('dealfinder_stream_batch_seconds_sum')} ms avg (commit ${avg('dealfinder_stream_commit_seconds_sum')})`;
    });
    const metricsText = await ctx.metrics.registry.metrics();
    // Steady-state rate through all stages: every deal passes every stage and the qualifying ones
    // (every 1/qualifying-th deal) reach the receiver, so the slope of arrival time over deal
    // number (least squares over all notifications) is the rate the pipeline delivered, without
    // the start-up and drain latency that "all deals / time until the last one" also counts; a
    // growing backlog makes the slope steeper (a lower rate).
    const delivered = receiver.received
      .map((r) => ({
        n: Number(/\/bench\/(\d+)$/.exec((r.body.opportunity as { url: string }).url)?.[1]),
        at: r.at,
      }))
      .filter((d) => Number.isFinite(d.n));
    const meanN = delivered.reduce((a, d) => a + d.n, 0) / delivered.length;
    const meanAt = delivered.reduce((a, d) => a + d.at, 0) / delivered.length;
    const cov = delivered.reduce((a, d) => a + (d.n - meanN) * (d.at - meanAt), 0);
    const varN = delivered.reduce((a, d) => a + (d.n - meanN) ** 2, 0);
    const steady = delivered.length > 10 && cov > 0 ? (varN / cov) * 1000 : Number.NaN;
    const allThrough = doneAt > 0 && throughputDone >= total;
    // Kept up: the steady-state rate matched the offered rate, within 3 % (the slope of a 10 s run
    // moves by 1–2 % with the latency noise of single deliveries); "over time" shows any drift.
    const keptUp = allThrough && steady >= rate * 0.97;
    const sustained = keptUp ? rate : Math.min(steady, throughputDone / elapsed);
    // CPU per deal by component over the run (offer + drain): what the rate costs on this machine.
    const perDeal = (seconds: number) => (seconds * 1000) / total;
    const own = (cpu.user + cpu.system) / 1e6;
    const components: [string, number][] = [
      ...(inProcess
        ? [['4 stages + bench', own] as [string, number]]
        : [
            ...STAGES.map((stage, i): [string, number] => [
              stage,
              procCpu1.children[i]! - procCpu0.children[i]!,
            ]),
            ['bench producer + receiver', own] as [string, number],
          ]),
      ['broker', procCpu1.broker - procCpu0.broker],
    ];
    const cpuTotal = components.reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
    const p = (q: number) => quantile(latencies, q);
    const lines = [
      '',
      `bench/stream — Kafka (real broker), 4 stages ${inProcess ? 'in one process' : 'in 4 processes'}, transactional, 2 cores shared with the broker`,
      `offered:      ${rate} deals/s for ${offeredSeconds.toFixed(1)} s = ${total} deals (${lateTicks} late producer ticks), after ${warmupSeconds} s of warm-up at the same rate`,
      `processed:    ${throughputDone}/${total} deals through evaluate, ${receiver.received.length}/${expectedNotifications} notifications delivered${doneAt ? '' : ' (DRAIN TIMED OUT)'}`,
      `sustained:    ${sustained.toFixed(0)} deals/s through all stages (${keptUp ? 'kept up with the offered rate' : 'did NOT keep up'}: steady-state ${steady.toFixed(0)} deals/s (slope of delivery time over deal number); all ${total} through evaluate ${elapsed.toFixed(2)} s after the first offer)   target ≥ ${TARGET_RATE} deals/s: ${sustained >= TARGET_RATE && keptUp ? 'MET' : 'NOT MET'}`,
      `latency (detection → delivery, ms): p50 ${p(0.5).toFixed(0)}  p95 ${p(0.95).toFixed(0)}  p99 ${p(0.99).toFixed(0)}  max ${(latencies.at(-1) ?? Number.NaN).toFixed(0)}   target p95 < ${TARGET_P95_MS} ms: ${p(0.95) < TARGET_P95_MS ? 'MET' : 'NOT MET'}`,
      `over time:    p50/p95 ms of the deals offered in each tenth of the run: ${timeline}`,
      `per stage:    ${perStage.join(' | ')}`,
      `CPU per deal: ${components.map(([k, v]) => `${k} ${perDeal(v).toFixed(3)}`).join(' | ')} ms; total ${perDeal(cpuTotal).toFixed(3)} ms = ${((perDeal(cpuTotal) * rate) / 1000).toFixed(2)} cores at ${rate} deals/s (of ${cpus().length})`,
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
