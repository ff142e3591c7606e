/**
 * bench/nightly: the nightly pipeline on DuckDB at several input sizes, each in a fresh child
 * process so its peak memory (VmHWM) is its own. Prints wall time, raw rows/s, peak RSS and the
 * DuckDB memory limit, and ratios against the smallest size as the in-run baseline: time should
 * grow at most linearly, peak memory should stay flat (bounded by DuckDB's limit, not the input).
 *
 * At the sizes of --steady-sizes it also measures a steady-state night: the same day's input with
 * 90 days of history in the lake (bench/support/history.ts: yesterday's deals for the dedupe,
 * 89 days of daily price aggregates, yesterday's trends), generated from the first night's outputs,
 * printed beside the first night with their ratio (target ≤ 1.5×).
 *
 *   npm run bench -- nightly [--sizes 1000000,10000000] [--steady-sizes 1000000] [--memory-limit 2GB] [--threads 2]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSteadyStateLake, type HistorySummary } from './support/history.ts';
import { BENCH_DATE, ensureSample, REPO } from './support/sample.ts';

const DATE = BENCH_DATE;
const TARGET_10M_SECONDS = 120;
const TARGET_STEADY_RATIO = 1.5;

interface Measurement {
  rawDeals: number;
  night: 'first' | 'steady';
  wallSeconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  steps: Record<string, number>;
  deduplicated: number;
  load: [number, number];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Runs inside the child: one nightly run over a prepared lake, then reports VmHWM. */
async function child(lakeRoot: string, memoryLimit: string, threads: number): Promise<void> {
  const { loadConfig } = await import('../core/config.ts');
  const { Lake } = await import('../core/lake.ts');
  const { createLogger } = await import('../core/logging.ts');
  const { DuckDbEngine, duckDbSettings } = await import('../jobs/index.ts');
  const { runNightly } = await import('../pipelines/index.ts');
  const config = loadConfig({
    env: {},
    overrides: { lake: { root: lakeRoot }, duckdb: { memoryLimit, threads } },
  });
  const engine = await DuckDbEngine.create(duckDbSettings(config));
  const load0 = os.loadavg()[0]!;
  const t0 = performance.now();
  const s = await runNightly({
    date: DATE,
    engine,
    config,
    lake: new Lake(lakeRoot),
    log: createLogger({}, 'warn'),
    force: true,
  });
  const wall = (performance.now() - t0) / 1000;
  await engine.close();
  if (s.status !== 'succeeded') throw new Error(`run failed: ${s.error?.message}`);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const steps = Object.fromEntries(s.steps.map((x) => [x.step, (x.detail?.durationMs ?? 0) / 1000]));
  const deduplicated = s.steps.find((x) => x.step === 'cleanup')?.deduplicated ?? 0;
  const load = [load0, os.loadavg()[0]!];
  process.stdout.write(
    `${JSON.stringify({ wallSeconds: wall, peakRssMiB: Number(hwm) / 1024, steps, deduplicated, load })}\n`,
  );
}

function measure(lake: string, n: number, night: Measurement['night'], memoryLimit: string, threads: number) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', lake, memoryLimit, String(threads)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 30 * 60_000,
    },
  );
  if (r.status !== 0)
    throw new Error(
      `benchmark child for ${n} (${night} night) failed (status ${r.status}, signal ${r.signal})`,
    );
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Omit<
    Measurement,
    'rawDeals' | 'rowsPerSecond' | 'night'
  >;
  return { rawDeals: n, night, ...m, rowsPerSecond: n / m.wallSeconds };
}

async function parent(): Promise<void> {
  const sizes = arg('sizes', '1000000,10000000')
    .split(',')
    .map((s) => Number(s.replaceAll('_', '')));
  const steadySizes = new Set(
    arg('steady-sizes', '1000000')
      .split(',')
      .filter(Boolean)
      .map((s) => Number(s.replaceAll('_', ''))),
  );
  const memoryLimit = arg('memory-limit', '2GB');
  const threads = Number(arg('threads', '2'));
  const results: Measurement[] = [];
  const histories = new Map<number, HistorySummary>();
  for (const n of sizes) {
    const lake = ensureSample(n);
    results.push(measure(lake, n, 'first', memoryLimit, threads));
    if (!steadySizes.has(n)) continue;
    // Untimed: 90 days of history generated from the first night's outputs (no nights are run).
    const steady = path.join(REPO, '.cache', 'bench', `steady-${n}`);
    process.stderr.write(`generating 90 days of history for ${n.toLocaleString('en-US')} (untimed)…\n`);
    histories.set(n, await buildSteadyStateLake(lake, steady, DATE));
    results.push(measure(steady, n, 'steady', memoryLimit, threads));
  }
  const base = results[0]!;
  // Peak RSS against DuckDB's limit: bounded memory means this stays flat as the input grows
  // (Node, V8 and DuckDB allocations outside its buffer manager are the remainder).
  // DuckDB reads GB/MB as powers of 1000, GiB/MiB as powers of 1024.
  const unit = /^([0-9.]+)\s*(GB|MB|GiB|MiB)$/i.exec(memoryLimit);
  const bytesPer: Record<string, number> = { gb: 1e9, mb: 1e6, gib: 2 ** 30, mib: 2 ** 20 };
  const limitMiB = unit ? (Number(unit[1]) * bytesPer[unit[2]!.toLowerCase()]!) / 2 ** 20 : Number.NaN;
  const cpu = execFileSync('nproc').toString().trim();
  console.log(
    `\nbench/nightly — DuckDB engine, memory_limit ${memoryLimit}, threads ${threads}, ${cpu} cores`,
  );
  console.log(
    'raw deals   night     wall s   raw rows/s   peak RSS MiB   RSS − limit MiB   time × base   size × base   RSS × base   deduplicated   load 1-min   cleanup/enrich/trends/features s',
  );
  for (const r of results) {
    console.log(
      [
        r.rawDeals.toLocaleString('en-US').padStart(10),
        r.night.padStart(7),
        r.wallSeconds.toFixed(1).padStart(9),
        Math.round(r.rowsPerSecond).toLocaleString('en-US').padStart(12),
        r.peakRssMiB.toFixed(0).padStart(14),
        (r.peakRssMiB - limitMiB).toFixed(0).padStart(17),
        (r.wallSeconds / base.wallSeconds).toFixed(2).padStart(13),
        (r.rawDeals / base.rawDeals).toFixed(1).padStart(13),
        (r.peakRssMiB / base.peakRssMiB).toFixed(2).padStart(12),
        r.deduplicated.toLocaleString('en-US').padStart(14),
        `${r.load[0].toFixed(1)}→${r.load[1].toFixed(1)}`.padStart(12),
        `   ${Object.values(r.steps)
          .map((s) => s.toFixed(1))
          .join(' / ')}`,
      ].join(' '),
    );
  }
  for (const [n, h] of histories) {
    const first = results.find((r) => r.rawDeals === n && r.night === 'first')!;
    const steady = results.find((r) => r.rawDeals === n && r.night === 'steady')!;
    const ratio = steady.wallSeconds / first.wallSeconds;
    console.log(
      `steady state at ${n.toLocaleString('en-US')}: history = deals dt=D-1 ${h.dealsPrev.toLocaleString('en-US')} rows, ` +
        `price_daily ${h.dailyDays} days / ${h.dailyRows.toLocaleString('en-US')} rows, price_trends dt=D-1 ${h.trendsPrev.toLocaleString('en-US')} rows ` +
        `(generated in ${h.seconds.toFixed(1)} s, untimed)`,
    );
    console.log(
      `target: steady-state night ≤ ${TARGET_STEADY_RATIO}× the first night → ${steady.wallSeconds.toFixed(1)} s / ${first.wallSeconds.toFixed(1)} s = ${ratio.toFixed(2)}× (${ratio <= TARGET_STEADY_RATIO ? 'MET' : 'NOT MET'})`,
    );
  }
  const ten = results.find((r) => r.rawDeals === 10_000_000 && r.night === 'first');
  if (ten)
    console.log(
      `target: 10M raw deals under ${TARGET_10M_SECONDS} s → ${ten.wallSeconds.toFixed(1)} s (${ten.wallSeconds <= TARGET_10M_SECONDS ? 'MET' : 'NOT MET'})`,
    );
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
else await parent();
