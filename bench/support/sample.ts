/**
 * The benchmarks' shared input: one day of generated raw deals per size, made once (untimed) with
 * `dealctl sample` and cached in .cache/bench/nightly-<n>/, so bench/nightly and bench/engines
 * read the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_DATE = '2026-11-22';
const SAMPLE_PRODUCTS = 100_000;

/** The lake folder holding `n` raw deals for BENCH_DATE (generated on first use). */
export function ensureSample(n: number): string {
  const lake = path.join(REPO, '.cache', 'bench', `nightly-${n}`);
  if (!existsSync(path.join(lake, 'raw', 'deals', `dt=${BENCH_DATE}`))) {
    mkdirSync(lake, { recursive: true });
    process.stderr.write(`preparing ${n.toLocaleString('en-US')} raw deals (untimed, cached in ${lake})…\n`);
    execFileSync(
      process.execPath,
      [
        path.join(REPO, 'bin', 'dealctl.mjs'),
        ...['--lake', lake, '--log-level', 'warn', 'sample', '--end-date', BENCH_DATE, '--days', '1'],
        ...['--raw-deals', String(n), '--products', String(SAMPLE_PRODUCTS)],
      ],
      { stdio: 'inherit' },
    );
  }
  return lake;
}
