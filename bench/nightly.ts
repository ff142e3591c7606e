/**
 * bench/nightly: the nightly pipeline on DuckDB at several input sizes, each in a fresh child
 * process so its peak memory (VmHWM) is its own. Prints wall time, raw rows/s, peak RSS and the
 * DuckDB memory limit, and ratios against the smallest size as the in-run baseline: time should
 * grow at most linearly, peak memory should stay flat (bounded by DuckDB's limit, not the input).
 *
 *   npm run bench -- nightly [--sizes 1000000,10000000] [--memory-limit 2GB] [--threads 2]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_DATE, ensureSample } from './support/sample.ts';

const DATE = BENCH_DATE;
const TARGET_10M_SECONDS = 120;

interface Measurement {
  rawDeals: number;
  wallSeconds: number;
  rowsPerSecond: number;
  peakRssMiB: number;
  steps: Record<string, number>;
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
  process.stdout.write(`${JSON.stringify({ wallSeconds: wall, peakRssMiB: Number(hwm) / 1024, steps })}\n`);
}

async function parent(): Promise<void> {
  const sizes = arg('sizes', '1000000,10000000')
    .split(',')
    .map((s) => Number(s.replaceAll('_', '')));
  const memoryLimit = arg('memory-limit', '2GB');
  const threads = Number(arg('threads', '2'));
  const results: Measurement[] = [];
  for (const n of sizes) {
    const lake = ensureSample(n);
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
      throw new Error(`benchmark child for ${n} failed (status ${r.status}, signal ${r.signal})`);
    const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Omit<
      Measurement,
      'rawDeals' | 'rowsPerSecond'
    >;
    results.push({ rawDeals: n, ...m, rowsPerSecond: n / m.wallSeconds });
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
    'raw deals     wall s   raw rows/s   peak RSS MiB   RSS − limit MiB   time × base   size × base   RSS × base   cleanup/enrich/trends/features s',
  );
  for (const r of results) {
    console.log(
      [
        r.rawDeals.toLocaleString('en-US').padStart(10),
        r.wallSeconds.toFixed(1).padStart(9),
        Math.round(r.rowsPerSecond).toLocaleString('en-US').padStart(12),
        r.peakRssMiB.toFixed(0).padStart(14),
        (r.peakRssMiB - limitMiB).toFixed(0).padStart(17),
        (r.wallSeconds / base.wallSeconds).toFixed(2).padStart(13),
        (r.rawDeals / base.rawDeals).toFixed(1).padStart(13),
        (r.peakRssMiB / base.peakRssMiB).toFixed(2).padStart(12),
        `   ${Object.values(r.steps)
          .map((s) => s.toFixed(1))
          .join(' / ')}`,
      ].join(' '),
    );
  }
  const ten = results.find((r) => r.rawDeals === 10_000_000);
  if (ten)
    console.log(
      `target: 10M raw deals under ${TARGET_10M_SECONDS} s → ${ten.wallSeconds.toFixed(1)} s (${ten.wallSeconds <= TARGET_10M_SECONDS ? 'MET' : 'NOT MET'})`,
    );
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
else await parent();
