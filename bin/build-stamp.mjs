/**
 * Whether dist/ (the compiled CLI, built by scripts/build.mjs) matches the sources. Shared by
 * bin/dealctl.mjs, which runs dist/ only when it does, and the build, which writes the stamp.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(REPO, 'dist');
export const STAMP_FILE = path.join(DIST, '.build-stamp.json');
/** The folders compiled into dist/ (tsconfig.build.json's include) and the files that shape the output. */
export const SOURCE_DIRS = [
  'cli',
  'core',
  'jobs',
  'migration',
  'notebooks',
  'pipelines',
  'samples',
  'schemas',
  'streaming',
];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/** Repo-relative source files (tests and caches excluded), sorted. */
export function sourceFiles(root = REPO) {
  const out = [];
  const walk = (rel) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === '__pycache__' || e.name === 'node_modules') continue;
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (!e.name.endsWith('.test.ts')) out.push(child);
    }
  };
  for (const dir of SOURCE_DIRS) if (existsSync(path.join(root, dir))) walk(dir);
  for (const f of CONFIG_FILES) if (existsSync(path.join(root, f))) out.push(f);
  return out.sort();
}

/** Hash of the sources' names and contents: equal stamps mean an equal dist/. */
export function contentStamp(files = sourceFiles(), root = REPO) {
  const hash = createHash('sha256');
  for (const f of files)
    hash
      .update(`${f}\0`)
      .update(readFileSync(path.join(root, f)))
      .update('\0');
  return hash.digest('hex');
}

/** The newest modification time of `files` (ms). */
export function newestMtime(files, root = REPO) {
  let newest = 0;
  for (const f of files) newest = Math.max(newest, statSync(path.join(root, f)).mtimeMs);
  return newest;
}

export function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP_FILE, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * True when dist/ was built from the sources as they are. Fast path: the same files and none
 * modified since the build (stat only); otherwise the contents decide (a checkout that only
 * touched files is still up to date).
 */
export function distIsCurrent() {
  const stamp = readStamp();
  if (!stamp) return false;
  const files = sourceFiles();
  if (files.length === stamp.files && newestMtime(files) <= stamp.newestMtimeMs) return true;
  return contentStamp(files) === stamp.content;
}
