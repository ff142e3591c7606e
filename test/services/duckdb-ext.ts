/**
 * DuckDB extensions for the Node binding (@duckdb/node-api), provisioned from a
 * registry package instead of DuckDB's extension server (unreachable here).
 *
 * The Node binding has parquet, json, icu and core_functions built in, but not
 * httpfs (needed for s3://). DuckDB only loads a C++ extension built for its exact
 * version ("The file was built specifically for DuckDB version 'v1.5.5' and can only
 * be loaded with that version of DuckDB. (this version of DuckDB is 'v1.5.6')";
 * allow_extensions_metadata_mismatch does not relax that check). The source used here
 * is PyPI's `duckdb-extension-<name>` (one wheel per DuckDB release, e.g.
 * duckdb-extension-httpfs 1.5.5 holds duckdb_extension_httpfs/extensions/v1.5.5/
 * httpfs.duckdb_extension, signed, 21.6 MB; the wheel is 7.4 MB). Its versions track
 * DuckDB releases; when the binding is newer than the newest wheel,
 * duckdbExtensionDir() throws DuckdbExtensionUnavailableError naming the versions
 * that exist.
 *
 * Layout DuckDB expects under `SET extension_directory = '<dir>'`:
 *   <dir>/<version e.g. v1.5.5>/<platform e.g. linux_amd64>/httpfs.duckdb_extension
 * <dir> is <cache>/services/duckdb-extensions. Use it as:
 *   DuckDBInstance.create(':memory:', { extension_directory: dir, autoinstall_known_extensions: 'false' })
 *   then `LOAD httpfs` (autoload also works once the file is there).
 */

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { cacheRoot } from './paths.js';
import { findBasePython, runCommand } from './python-env.js';

/** Wheel platform tag for each DuckDB platform string we can serve. */
const WHEEL_PLATFORM: Record<string, string> = {
  linux_amd64: 'manylinux2014_x86_64',
  linux_arm64: 'manylinux2014_aarch64',
};

export class DuckdbExtensionUnavailableError extends Error {
  constructor(
    message: string,
    /** Versions of the PyPI package that do exist (newest first), when pip listed them. */
    readonly availableVersions: readonly string[],
  ) {
    super(message);
    this.name = 'DuckdbExtensionUnavailableError';
  }
}

export interface DuckdbRuntime {
  /** e.g. 'v1.5.6' (PRAGMA version → library_version) */
  readonly version: string;
  /** e.g. 'linux_amd64' (PRAGMA platform) */
  readonly platform: string;
}

/** Version and platform of the DuckDB library the Node binding loads. */
export async function duckdbRuntime(): Promise<DuckdbRuntime> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        'select (select library_version from pragma_version()) as v, (select platform from pragma_platform()) as p',
      );
      const row = reader.getRowObjectsJson()[0] as { v: string; p: string } | undefined;
      if (!row) throw new Error('no row from pragma_version()/pragma_platform()');
      return { version: row.v, platform: row.p };
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

export interface DuckdbExtensionOptions {
  /** Extensions to provision (default ['httpfs']). */
  extensions?: readonly string[];
  /** Override the detected runtime (e.g. to provision for another binding version). */
  runtime?: DuckdbRuntime;
  /** Default: <cacheRoot()>/services/duckdb-extensions. */
  dir?: string;
  log?: (message: string) => void;
  timeoutMs?: number;
}

/** Default extension directory: <cache>/services/duckdb-extensions. */
export function defaultDuckdbExtensionDir(): string {
  return path.join(cacheRoot(), 'services', 'duckdb-extensions');
}

/**
 * Provisions the requested extensions for the running DuckDB version and platform and
 * returns the directory to use as extension_directory. Idempotent; concurrent callers
 * are serialised with a lock file, and files are moved into place atomically.
 */
export async function duckdbExtensionDir(options: DuckdbExtensionOptions = {}): Promise<string> {
  const dir = options.dir ?? defaultDuckdbExtensionDir();
  const runtime = options.runtime ?? (await duckdbRuntime());
  const extensions = options.extensions ?? ['httpfs'];
  const target = (name: string) =>
    path.join(dir, runtime.version, runtime.platform, `${name}.duckdb_extension`);
  const missing = extensions.filter((name) => !existsSync(target(name)));
  if (missing.length === 0) return dir;

  const wheelPlatform = WHEEL_PLATFORM[runtime.platform];
  if (!wheelPlatform) {
    throw new DuckdbExtensionUnavailableError(
      `no PyPI wheel platform known for DuckDB platform ${runtime.platform}`,
      [],
    );
  }
  await mkdir(dir, { recursive: true });
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const release = await lockBounded(path.join(dir, '.provision'), timeoutMs);
  try {
    for (const name of missing) {
      if (existsSync(target(name))) continue;
      await fetchExtension(
        name,
        runtime,
        wheelPlatform,
        dir,
        target(name),
        timeoutMs,
        options.log ?? (() => undefined),
      );
    }
  } finally {
    await release().catch(() => undefined);
  }
  return dir;
}

async function lockBounded(lockTarget: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < Math.ceil(timeoutMs / 1_000) + 1 && Date.now() < deadline; attempt++) {
    try {
      return await lockfile.lock(lockTarget, { realpath: false, stale: 30_000, update: 5_000, retries: 0 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      await sleep(1_000);
    }
  }
  throw new Error(`duckdb-ext: timed out after ${timeoutMs} ms waiting for ${lockTarget}.lock`);
}

async function fetchExtension(
  name: string,
  runtime: DuckdbRuntime,
  wheelPlatform: string,
  dir: string,
  finalPath: string,
  timeoutMs: number,
  log: (message: string) => void,
): Promise<void> {
  const base = await findBasePython();
  if (typeof base === 'string') throw new Error(`duckdb-ext: pip is needed to fetch extensions: ${base}`);
  const pkg = `duckdb-extension-${name}`;
  const pkgVersion = runtime.version.replace(/^v/, '');
  const tmp = await mkdtemp(path.join(dir, '.tmp-'));
  try {
    const started = Date.now();
    log(`duckdb-ext: pip download ${pkg}==${pkgVersion} (${wheelPlatform})`);
    const download = await runCommand(
      base.executable,
      [
        '-m',
        'pip',
        'download',
        '--disable-pip-version-check',
        '--no-input',
        '--progress-bar',
        'off',
        '--no-deps',
        '--only-binary=:all:',
        '--platform',
        wheelPlatform,
        '-d',
        tmp,
        `${pkg}==${pkgVersion}`,
      ],
      { timeoutMs },
    );
    if (download.code !== 0) {
      const text = `${download.stdout}\n${download.stderr}`;
      const listed = /\(from versions: ([^)]*)\)/.exec(text)?.[1];
      const available =
        listed && listed !== 'none'
          ? listed
              .split(',')
              .map((v) => v.trim())
              .reverse()
          : [];
      const errorLine =
        text.split('\n').find((line) => line.startsWith('ERROR:')) ??
        download.error ??
        `exit ${download.code}`;
      throw new DuckdbExtensionUnavailableError(
        `No registry build of the DuckDB ${name} extension for ${runtime.version} ${runtime.platform}: ` +
          `pip download ${pkg}==${pkgVersion} said: ${errorLine.trim()}` +
          (available.length
            ? `\nPyPI has ${pkg} ${available.slice(0, 6).join(', ')}${available.length > 6 ? ', …' : ''}; ` +
              `pin @duckdb/node-api to the matching release (e.g. ${available[0]}-r.N) to use it.`
            : ''),
        available,
      );
    }
    const wheel = (await readdir(tmp)).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`duckdb-ext: pip download left no wheel in ${tmp}`);
    const unpacked = path.join(tmp, 'unpacked');
    const unzip = await runCommand(
      base.executable,
      ['-m', 'zipfile', '-e', path.join(tmp, wheel), unpacked],
      { timeoutMs: 120_000 },
    );
    if (unzip.code !== 0) throw new Error(`duckdb-ext: could not unpack ${wheel}: ${unzip.stderr}`);
    const inside = path.join(
      unpacked,
      `duckdb_extension_${name}`,
      'extensions',
      runtime.version,
      `${name}.duckdb_extension`,
    );
    if (!existsSync(inside))
      throw new Error(`duckdb-ext: ${wheel} has no extensions/${runtime.version}/${name}.duckdb_extension`);
    const footer = readFooter(inside);
    if (!footer.includes(runtime.version) || !footer.includes(runtime.platform)) {
      throw new Error(`duckdb-ext: ${wheel} footer does not name ${runtime.version} ${runtime.platform}`);
    }
    await mkdir(path.dirname(finalPath), { recursive: true });
    const staged = `${finalPath}.tmp-${process.pid}`;
    await copyFile(inside, staged);
    await rename(staged, finalPath);
    log(
      `duckdb-ext: ${name} ${runtime.version} ${runtime.platform} ready in ${Date.now() - started} ms (${finalPath})`,
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Printable strings of the extension's metadata footer (last 1 KiB). */
function readFooter(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ');
  } finally {
    closeSync(fd);
  }
}
