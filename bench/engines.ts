/**
 * bench/engines: the same nightly job set (cleanup → enrichment → price_trends → features) on the
 * DuckDB engine and on the Spark engine (local spark-submit, one driver for the run) over the same
 * sample input, at several sizes, in one run. Each engine × size runs in a fresh child process
 * over a fresh lake whose raw/ and catalog/ are symlinks to the cached sample of bench/nightly
 * (.cache/bench/nightly-<n>/, generated once with `dealctl sample` when missing), so both engines
 * read identical bytes and write their own outputs. Prints wall time per engine and size (Spark's
 * driver launch separately), Spark/DuckDB ratios, per-job seconds, the outputs' row counts (they
 * must agree) and the load average around each measurement.
 *
 *   npm run bench -- engines [--sizes 1000000,10000000] [--driver-memory 6g]
 *       [--shuffle-partitions 8] [--master local[2]] [--memory-limit 2GB] [--threads 2] [--engines duckdb,spark]
 *
 * Spark comes from $SPARK_SUBMIT / $SPARK_PYTHON when set, else the harness's pyspark 3.5 is
 * provisioned (or reused) as in the test suite.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_DATE, ensureSample, REPO } from './support/sample.ts';

const DATE = BENCH_DATE;

type EngineName = 'duckdb' | 'spark';

interface Measurement {
  engine: EngineName;
  rawDeals: number;
  wallSeconds: number;
  launchSeconds: number;
  steps: Record<string, number>;
  rows: Record<string, number>;
  load: [number, number];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** A fresh lake reading the sample's inputs through symlinks (nothing copied, nothing shared written). */
function freshLake(sample: string, n: number, engine: EngineName): string {
  const lake = path.join(REPO, '.cache', 'bench', `engines-${n}-${engine}`);
  rmSync(lake, { recursive: true, force: true });
  mkdirSync(lake, { recursive: true });
  for (const dir of ['raw', 'catalog']) symlinkSync(path.join(sample, dir), path.join(lake, dir), 'dir');
  return lake;
}

interface ChildArgs {
  engine: EngineName;
  lake: string;
  driverMemory: string;
  shufflePartitions: number;
  master: string;
  memoryLimit: string;
  threads: number;
}

/** Runs inside the child: one nightly run over the prepared lake on one engine. */
async function child(a: ChildArgs): Promise<void> {
  const { loadConfig } = await import('../core/config.ts');
  const { Lake } = await import('../core/lake.ts');
  const { createLogger } = await import('../core/logging.ts');
  const { createEngine } = await import('../jobs/engines/index.ts');
  const { runNightly } = await import('../pipelines/index.ts');
  const config = loadConfig({
    env: process.env,
    overrides: {
      lake: { root: a.lake },
      duckdb: { memoryLimit: a.memoryLimit, threads: a.threads },
      spark: {
        driverMemory: a.driverMemory,
        shufflePartitions: a.shufflePartitions,
        master: a.master,
        jobTimeoutMs: 3 * 60 * 60_000,
      },
    },
  });
  const engine = await createEngine(a.engine, config);
  const load0 = os.loadavg()[0]!;
  const t0 = performance.now();
  let launchSeconds = 0;
  try {
    const s = await runNightly({
      date: DATE,
      engine,
      config,
      lake: new Lake(a.lake),
      log: createLogger({}, 'warn'),
      force: true,
    });
    const wall = (performance.now() - t0) / 1000;
    if (s.status !== 'succeeded')
      throw new Error(`run failed: ${s.error?.message}\n${String(s.error?.cause ?? '')}`);
    const launches = (engine as { launches?: number[] }).launches;
    if (launches) launchSeconds = launches.reduce((x, y) => x + y, 0) / 1000;
    const steps = Object.fromEntries(s.steps.map((x) => [x.step, (x.detail?.durationMs ?? 0) / 1000]));
    const rows: Record<string, number> = {};
    for (const x of s.steps) for (const [k, v] of Object.entries(x.detail?.outputs ?? {})) rows[k] = v;
    const m: Omit<Measurement, 'rawDeals'> = {
      engine: a.engine,
      wallSeconds: wall,
      launchSeconds,
      steps,
      rows,
      load: [load0, os.loadavg()[0]!],
    };
    process.stdout.write(`${JSON.stringify(m)}\n`);
  } finally {
    await engine.close();
  }
}

async function parent(): Promise<void> {
  const sizes = arg('sizes', '1000000,10000000')
    .split(',')
    .map((s) => Number(s.replaceAll('_', '')));
  const engines = arg('engines', 'duckdb,spark').split(',') as EngineName[];
  const common = {
    driverMemory: arg('driver-memory', '6g'),
    shufflePartitions: Number(arg('shuffle-partitions', '8')),
    master: arg('master', 'local[2]'),
    memoryLimit: arg('memory-limit', '2GB'),
    threads: Number(arg('threads', '2')),
  };
  if (engines.includes('spark') && !process.env.SPARK_SUBMIT) {
    // Same as bench/stream with Kafka: provision (or reuse) the harness's local Spark.
    const { servicesUp } = await import('./support/services.ts');
    Object.assign(process.env, servicesUp(['spark']));
  }
  const results: Measurement[] = [];
  for (const n of sizes) {
    const sample = ensureSample(n);
    for (const engine of engines) {
      const lake = freshLake(sample, n, engine);
      process.stderr.write(`${engine}: ${n.toLocaleString('en-US')} raw deals…\n`);
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(import.meta.url),
          '--child',
          JSON.stringify({ engine, lake, ...common }),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 4 * 60 * 60_000 },
      );
      if (r.status !== 0)
        throw new Error(`${engine} at ${n} failed (status ${r.status}, signal ${r.signal})`);
      const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Omit<Measurement, 'rawDeals'>;
      results.push({ rawDeals: n, ...m });
      rmSync(lake, { recursive: true, force: true });
    }
  }
  const cpu = execFileSync('nproc').toString().trim();
  const mem = (os.totalmem() / 2 ** 30).toFixed(0);
  console.log(
    `\nbench/engines — nightly jobs (cleanup, enrichment, price_trends, features) for ${DATE}; ${cpu} cores, ${mem} GiB`,
  );
  console.log(
    `DuckDB: memory_limit ${common.memoryLimit}, threads ${common.threads}; Spark: ${common.master}, driver ${common.driverMemory}, shuffle partitions ${common.shufflePartitions}`,
  );
  console.log(
    'raw deals     engine     wall s   (launch s)   cleanup/enrich/trends/features s   load 1-min before→after',
  );
  for (const r of results) {
    console.log(
      [
        r.rawDeals.toLocaleString('en-US').padStart(10),
        r.engine.padStart(10),
        r.wallSeconds.toFixed(1).padStart(10),
        (r.engine === 'spark' ? `(${r.launchSeconds.toFixed(1)})` : '').padStart(12),
        `   ${Object.values(r.steps)
          .map((s) => s.toFixed(1))
          .join(' / ')
          .padEnd(33)}`,
        `${r.load[0].toFixed(1)}→${r.load[1].toFixed(1)}`,
      ].join(' '),
    );
  }
  console.log('\nraw deals   Spark/DuckDB wall   Spark/DuckDB without launch   outputs agree');
  for (const n of sizes) {
    const d = results.find((r) => r.rawDeals === n && r.engine === 'duckdb');
    const s = results.find((r) => r.rawDeals === n && r.engine === 'spark');
    if (!d || !s) continue;
    const same = JSON.stringify(d.rows) === JSON.stringify(s.rows);
    console.log(
      [
        n.toLocaleString('en-US').padStart(10),
        `${(s.wallSeconds / d.wallSeconds).toFixed(1)}×`.padStart(19),
        `${((s.wallSeconds - s.launchSeconds) / d.wallSeconds).toFixed(1)}×`.padStart(29),
        `   ${same ? 'yes' : `NO: duckdb ${JSON.stringify(d.rows)} spark ${JSON.stringify(s.rows)}`}`,
      ].join(' '),
    );
  }
  const rows = results[0]?.rows;
  if (rows)
    console.log(`output rows at ${results[0]!.rawDeals.toLocaleString('en-US')}: ${JSON.stringify(rows)}`);
  if (
    results.some((r, _i, all) =>
      all.some((o) => o.rawDeals === r.rawDeals && JSON.stringify(o.rows) !== JSON.stringify(r.rows)),
    )
  )
    process.exitCode = 1;
}

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]!) as ChildArgs);
else await parent();
