/**
 * bench/cli: how fast `dealctl` answers, as a user waits for it (wall time of the whole process).
 * Three measurements, each the median of --runs runs after one untimed warm-up:
 *   - `dealctl --help`                                   target < 150 ms
 *   - `dealctl query "SELECT 1"` (a trivial query)
 *   - a category aggregation over the raw deals of a generated lake (--rows raw deals, one day,
 *     made once and cached by bench/support/sample.ts), through `dealctl query` and through
 *     @duckdb/node-api directly on the same Parquet files with the same threads and memory
 *     limit (bench/support/raw-duckdb.mjs)                target ≤ 1.2× raw DuckDB
 * Bare `node -e 0` is printed as the floor every Node process pays. The two aggregation answers
 * are compared: a mismatch fails the benchmark.
 *
 *   npm run bench -- cli [--rows 10000000] [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { distIsCurrent } from '../bin/build-stamp.mjs';
import { ensureSample, REPO } from './support/sample.ts';

const TARGET_HELP_MS = 150;
const TARGET_RATIO = 1.2;
const DEALCTL = path.join(REPO, 'bin', 'dealctl.mjs');
const RAW = path.join(REPO, 'bench', 'support', 'raw-duckdb.mjs');
const THREADS = 2;
const MEMORY_LIMIT = '2GB';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(process.argv[i + 1]?.replaceAll('_', '')) : fallback;
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
}

/** The aggregation both sides run; `FROM` is the view (dealctl) or the files (raw DuckDB). */
const aggregation = (from: string) =>
  `SELECT category_hint AS category, count(*) AS deals, count(DISTINCT retailer) AS retailers, ` +
  `count(price_text) AS priced, min(seen_at) AS first_seen, max(seen_at) AS last_seen ` +
  `FROM ${from} GROUP BY 1 ORDER BY 2 DESC, 1`;

interface Timed {
  readonly ms: number;
  /** CPU (user + system) of the child: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly stdout: string;
}

/** CPU ms of this process's waited-for children so far (cutime + cstime, Linux /proc, 100 Hz ticks). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function run(args: string[], env: Record<string, string> = {}): Timed {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, DEALFINDER_LOG_LEVEL: 'silent', ...env },
    maxBuffer: 64 << 20,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, cpuMs: childrenCpuMs() - cpu0, stdout: r.stdout };
}

/** Median wall ms of `runs` runs after one warm-up (file cache, lazy OS state). */
function median(runs: number, args: string[], env?: Record<string, string>): Timed {
  run(args, env);
  const all = Array.from({ length: runs }, () => run(args, env)).sort((a, b) => a.ms - b.ms);
  return all[Math.floor(all.length / 2)]!;
}

function main(): void {
  const rows = arg('rows', 10_000_000);
  const runs = arg('runs', 5);
  if (!distIsCurrent())
    throw new Error('dist/ is older than the sources: run `npm run build` (npm run bench does it first)');
  const lake = ensureSample(rows);
  const dealctlEnv = {
    DEALFINDER_DUCKDB_THREADS: String(THREADS),
    DEALFINDER_DUCKDB_MEMORY_LIMIT: MEMORY_LIMIT,
  };
  const files = path.join(lake, 'raw', 'deals', '*', '*.parquet');
  const load = loadavg()[0]!;

  const node = median(runs, ['-e', '0']);
  const help = median(runs, [DEALCTL, '--help']);
  const trivial = median(
    runs,
    [DEALCTL, '--lake', lake, 'query', 'SELECT 1 AS x', '--format', 'csv'],
    dealctlEnv,
  );
  const viaCli = median(
    runs,
    [DEALCTL, '--lake', lake, 'query', aggregation('raw_deals'), '--format', 'csv'],
    dealctlEnv,
  );
  const raw = median(runs, [
    RAW,
    String(THREADS),
    MEMORY_LIMIT,
    aggregation(`read_parquet('${files.replaceAll("'", "''")}', hive_partitioning = true)`),
  ]);
  if (viaCli.stdout.trim() !== raw.stdout.trim())
    throw new Error(
      `dealctl and raw DuckDB disagree:\n--- dealctl\n${viaCli.stdout}\n--- raw\n${raw.stdout}`,
    );

  const ratio = viaCli.ms / raw.ms;
  const f = (t: Timed) => `${t.ms.toFixed(0)} ms | ${t.cpuMs.toFixed(0)} ms`;
  console.log(
    `\nbench/cli — ${rows.toLocaleString('en-US')} raw deals (${lake}), median of ${runs} runs, ${THREADS} threads, memory_limit ${MEMORY_LIMIT}, load average ${load.toFixed(1)} at start\n`,
  );
  console.log('| measurement | wall | CPU | wall vs | target |');
  console.log('| --- | ---: | ---: | --- | --- |');
  console.log(`| node -e 0 (floor) | ${f(node)} | | |`);
  console.log(
    `| dealctl --help | ${f(help)} | ${(help.ms / node.ms).toFixed(2)}× bare node | < ${TARGET_HELP_MS} ms: ${help.ms < TARGET_HELP_MS ? 'met' : 'NOT met'} |`,
  );
  console.log(
    `| dealctl query "SELECT 1" | ${f(trivial)} | ${(trivial.ms / node.ms).toFixed(2)}× bare node | |`,
  );
  console.log(`| category aggregation, raw DuckDB (node-api) | ${f(raw)} | baseline | |`);
  console.log(
    `| category aggregation, dealctl query | ${f(viaCli)} | **${ratio.toFixed(2)}×** raw DuckDB (CPU ${(viaCli.cpuMs / raw.cpuMs).toFixed(2)}×) | ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'} |`,
  );
}

main();
