#!/usr/bin/env node
/**
 * Compiles the production TypeScript to dist/ (tsc -p tsconfig.build.json) for bin/dealctl.mjs,
 * when the sources changed since the last build (a content stamp, like bootstrap's npm one).
 * The files read at run time next to the code (jobs/sql/*.sql, jobs/spark/runner.py,
 * migration/py/*.py, samples/rss/*.xml) are linked into dist/, so compiled modules find them
 * where import.meta.url says and an edit to one is live without a rebuild.
 *
 *   node scripts/build.mjs [--force]
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  contentStamp,
  DIST,
  newestMtime,
  REPO,
  readStamp,
  STAMP_FILE,
  sourceFiles,
} from '../bin/build-stamp.mjs';

const files = sourceFiles();
const content = contentStamp(files);
const stamp = { content, files: files.length, newestMtimeMs: newestMtime(files) };
const previous = readStamp();
if (previous?.content === content && !process.argv.includes('--force')) {
  // Same contents: record the new modification times so the start-up check stays stat-only.
  if (previous.newestMtimeMs !== stamp.newestMtimeMs) writeFileSync(STAMP_FILE, JSON.stringify(stamp));
  process.exit(0);
}
process.stderr.write('build: compiling the CLI to dist/ (tsc)…\n');
const t0 = performance.now();
rmSync(STAMP_FILE, { force: true });
const tsc = spawnSync(
  process.execPath,
  [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: REPO,
    stdio: 'inherit',
  },
);
// tsc exits 2 when it found type errors but still emitted: the build is usable, typecheck will say more.
if (tsc.status !== 0 && tsc.status !== 2) process.exit(tsc.status ?? 1);
for (const f of files) {
  if (f.endsWith('.ts') || !f.includes('/')) continue;
  const link = path.join(DIST, f);
  mkdirSync(path.dirname(link), { recursive: true });
  try {
    lstatSync(link);
    rmSync(link, { force: true });
  } catch {
    // not there yet
  }
  symlinkSync(path.relative(path.dirname(link), path.join(REPO, f)), link);
}
writeFileSync(STAMP_FILE, JSON.stringify(stamp));
process.stderr.write(`build: dist/ up to date in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
