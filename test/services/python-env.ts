/**
 * The one Python virtualenv shared by the Python-based services (spark.ts, chroma.ts,
 * moto.ts), built from test/services/requirements.txt, plus the small process helpers
 * those three definitions use (free loopback port, detached daemon, bounded waits).
 *
 * Layout (next to the services' own cache folders, see paths.ts):
 *
 *   <cache>/services/python-venv/
 *     venv-<hash>/                  the virtualenv; <hash> = sha256(requirements.txt,
 *       .dealfinder-complete        base interpreter version + path), first 16 hex chars
 *     install-<hash>.log            output of `python -m venv` and `pip install`
 *     .venv.lock                    proper-lockfile lock held while a venv is built
 *
 * Idempotent: a venv whose marker file exists is used as is (fast path, no lock). A
 * change of requirements.txt gives a new hash, so a new venv; older venv-* folders are
 * removed once the new one is complete. Two services provisioning at the same time (in
 * one process or several) build it once: in-process calls share one promise, other
 * processes wait on the lock (bounded) and then find the marker. A venv cannot be
 * built elsewhere and renamed into place (console scripts carry absolute shebangs),
 * so it is built in place under the lock; a folder without the marker is a leftover
 * of an interrupted build and is wiped before building again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  writeSync,
} from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import lockfile from 'proper-lockfile';

/** Pinned requirements of the shared venv. */
export const REQUIREMENTS_FILE: string = fileURLToPath(new URL('./requirements.txt', import.meta.url));
/** Folder of the Python helper scripts (chroma fixture writer, Spark smoke job…). */
export const PY_SCRIPTS_DIR: string = fileURLToPath(new URL('./py/', import.meta.url));

/** Base interpreter versions the pinned set is known to install on (numpy 2.4 needs 3.11+). */
const MIN_PYTHON: readonly [number, number] = [3, 11];
const MAX_PYTHON_EXCLUSIVE: readonly [number, number] = [3, 13];

const MARKER = '.dealfinder-complete';

export interface PythonEnv {
  /** <cache>/services/python-venv */
  readonly root: string;
  /** <root>/venv-<hash> */
  readonly venvDir: string;
  /** <venvDir>/bin/python */
  readonly python: string;
  readonly hash: string;
  /** Absolute path of a console script in the venv (spark-submit, chroma, moto_server). */
  bin(name: string): string;
}

export interface PythonEnvContext {
  /** Any service's cache folder (ctx.cacheDir); the venv lives in its parent. */
  readonly cacheDir: string;
  readonly log: (message: string) => void;
}

/** Where the shared venv lives, given one service's cache folder. */
export function pythonEnvRoot(serviceCacheDir: string): string {
  return path.resolve(serviceCacheDir, '..', 'python-venv');
}

// ---------------------------------------------------------------- base interpreter

interface BasePython {
  readonly executable: string;
  readonly version: string;
  readonly major: number;
  readonly minor: number;
}

let basePythonPromise: Promise<BasePython | string> | undefined;

/**
 * The interpreter the venv is created from: $DEALFINDER_PYTHON, else python3 on PATH
 * (a pyenv shim is fine: sys.executable names the real binary). A string result is
 * the reason none fits.
 */
export function findBasePython(): Promise<BasePython | string> {
  basePythonPromise ??= (async () => {
    const candidates = [process.env.DEALFINDER_PYTHON, 'python3', 'python3.11', 'python3.12'].filter(
      (c): c is string => typeof c === 'string' && c.trim() !== '',
    );
    const seen: string[] = [];
    for (const candidate of candidates) {
      const probe = await runCommand(
        candidate,
        [
          '-c',
          'import sys, json, venv, ensurepip; print(json.dumps({"exe": sys.executable, "v": list(sys.version_info[:3])}))',
        ],
        { timeoutMs: 20_000 },
      );
      if (probe.code !== 0) {
        seen.push(
          `${candidate}: ${probe.error ?? (probe.stderr.trim().split('\n').pop() || `exit ${probe.code}`)}`,
        );
        continue;
      }
      const info = JSON.parse(probe.stdout.trim().split('\n').pop() ?? '{}') as {
        exe?: string;
        v?: number[];
      };
      const [major = 0, minor = 0, patch = 0] = info.v ?? [];
      const ok =
        (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) &&
        (major < MAX_PYTHON_EXCLUSIVE[0] ||
          (major === MAX_PYTHON_EXCLUSIVE[0] && minor < MAX_PYTHON_EXCLUSIVE[1]));
      if (!ok || !info.exe) {
        seen.push(
          `${candidate}: Python ${major}.${minor}.${patch} (need >= ${MIN_PYTHON.join('.')}, < ${MAX_PYTHON_EXCLUSIVE.join('.')})`,
        );
        continue;
      }
      return { executable: info.exe, version: `${major}.${minor}.${patch}`, major, minor };
    }
    return `no usable Python with venv+ensurepip found (${seen.join('; ') || 'no candidates'})`;
  })();
  return basePythonPromise;
}

/** null when a venv can be built here, else the reason (for checkPrerequisites). */
export async function pythonPrerequisite(): Promise<string | null> {
  const base = await findBasePython();
  return typeof base === 'string' ? base : null;
}

// ---------------------------------------------------------------- the venv

const inProcess = new Map<string, Promise<PythonEnv>>();

function envFor(root: string, hash: string): PythonEnv {
  const venvDir = path.join(root, `venv-${hash}`);
  return {
    root,
    venvDir,
    hash,
    python: path.join(venvDir, 'bin', 'python'),
    bin: (name: string) => path.join(venvDir, 'bin', name),
  };
}

/** The hash that names the venv for the current requirements file and base interpreter. */
export function requirementsHash(base: BasePython): string {
  return createHash('sha256')
    .update(readFileSync(REQUIREMENTS_FILE))
    .update(`\n${base.version}\n${base.executable}\n${process.platform}-${process.arch}`)
    .digest('hex')
    .slice(0, 16);
}

/** The venv if it is already complete (no building, no lock), else null. */
export async function existingPythonEnv(serviceCacheDir: string): Promise<PythonEnv | null> {
  const base = await findBasePython();
  if (typeof base === 'string') return null;
  const env = envFor(pythonEnvRoot(serviceCacheDir), requirementsHash(base));
  return existsSync(path.join(env.venvDir, MARKER)) && existsSync(env.python) ? env : null;
}

/**
 * Makes sure the shared venv exists and is complete; builds it if not (about 1.5 min
 * and ~540 MB of downloads on an empty pip cache, see docs/services/python-services.md).
 */
export async function ensurePythonEnv(ctx: PythonEnvContext, timeoutMs = 20 * 60_000): Promise<PythonEnv> {
  const base = await findBasePython();
  if (typeof base === 'string') throw new Error(base);
  const root = pythonEnvRoot(ctx.cacheDir);
  const env = envFor(root, requirementsHash(base));
  if (existsSync(path.join(env.venvDir, MARKER)) && existsSync(env.python)) return env;
  let pending = inProcess.get(env.venvDir);
  if (!pending) {
    pending = buildLocked(ctx, base, env, timeoutMs).finally(() => inProcess.delete(env.venvDir));
    inProcess.set(env.venvDir, pending);
  }
  return pending;
}

async function buildLocked(
  ctx: PythonEnvContext,
  base: BasePython,
  env: PythonEnv,
  timeoutMs: number,
): Promise<PythonEnv> {
  await mkdir(env.root, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  const lockTarget = path.join(env.root, '.venv');
  let release: (() => Promise<void>) | undefined;
  let announced = false;
  // Bounded: one attempt every 2 s until the deadline.
  for (let attempt = 0; attempt < Math.ceil(timeoutMs / 2_000) + 1 && Date.now() < deadline; attempt++) {
    try {
      release = await lockfile.lock(lockTarget, {
        realpath: false,
        stale: 30_000,
        update: 5_000,
        retries: 0,
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (!announced) {
        ctx.log(`python-venv: another process is building ${env.venvDir}; waiting for it`);
        announced = true;
      }
      await sleep(2_000);
    }
  }
  if (!release)
    throw new Error(
      `python-venv: timed out after ${timeoutMs} ms waiting for the lock on ${lockTarget}.lock`,
    );
  try {
    if (existsSync(path.join(env.venvDir, MARKER)) && existsSync(env.python)) return env;
    await build(ctx, base, env, Math.max(60_000, deadline - Date.now()));
    await pruneOtherVenvs(ctx, env);
    return env;
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Environment for venv creation and pip. PYSPARK_HADOOP_VERSION / PYSPARK_HIVE_VERSION
 * are dropped: when set, pyspark's setup downloads another Spark build from Apache
 * mirrors at install time (unreachable here).
 */
function pipEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
  delete env.PYSPARK_HADOOP_VERSION;
  delete env.PYSPARK_HIVE_VERSION;
  return env;
}

async function build(
  ctx: PythonEnvContext,
  base: BasePython,
  env: PythonEnv,
  timeoutMs: number,
): Promise<void> {
  const logFile = path.join(env.root, `install-${env.hash}.log`);
  await rm(env.venvDir, { recursive: true, force: true });
  await writeFile(
    logFile,
    `# ${new Date().toISOString()} building ${env.venvDir} from ${REQUIREMENTS_FILE}\n`,
  );
  const started = Date.now();
  const deadline = started + timeoutMs;
  const step = async (what: string, command: string, args: string[]) => {
    const result = await runCommand(command, args, {
      timeoutMs: Math.max(10_000, deadline - Date.now()),
      logFile,
      env: pipEnv(),
    });
    if (result.code !== 0) {
      throw new Error(
        `python-venv: ${what} failed (${result.error ?? `exit ${result.code}`}): ${command} ${args.join(' ')}\n` +
          `--- last lines of ${logFile} ---\n${tail(logFile, 40)}\n--- end ---`,
      );
    }
  };
  ctx.log(`python-venv: creating ${env.venvDir} with Python ${base.version} (${base.executable})`);
  await step('venv creation', base.executable, ['-m', 'venv', env.venvDir]);
  ctx.log(
    `python-venv: pip install -r ${path.basename(REQUIREMENTS_FILE)} (pyspark is a 318 MB download; log: ${logFile})`,
  );
  await step('pip install', env.python, [
    '-m',
    'pip',
    'install',
    '--progress-bar',
    'off',
    '-r',
    REQUIREMENTS_FILE,
  ]);
  const check = await runCommand(
    env.python,
    [
      '-c',
      'import json, pyspark, chromadb, moto, pyarrow; print(json.dumps({m.__name__: m.__version__ for m in (pyspark, chromadb, moto, pyarrow)}))',
    ],
    { timeoutMs: 60_000, logFile },
  );
  if (check.code !== 0) throw new Error(`python-venv: import check failed\n${tail(logFile, 40)}`);
  const versions = check.stdout.trim().split('\n').pop() ?? '{}';
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  await writeFile(
    path.join(env.venvDir, MARKER),
    `${JSON.stringify({ hash: env.hash, python: base.version, versions: JSON.parse(versions), seconds, at: new Date().toISOString() }, null, 2)}\n`,
  );
  ctx.log(`python-venv: ready in ${seconds}s ${versions}`);
}

async function pruneOtherVenvs(ctx: PythonEnvContext, keep: PythonEnv): Promise<void> {
  for (const entry of await readdir(keep.root)) {
    const m = /^(?:venv|install)-([0-9a-f]{16})(?:\.log)?$/.exec(entry);
    if (!m || m[1] === keep.hash) continue;
    ctx.log(`python-venv: removing outdated ${entry}`);
    await rm(path.join(keep.root, entry), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- process helpers

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}

export interface DetachedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Exit description once the process has exited, else null. */
  exited(): string | null;
}

/**
 * Starts a daemon in its own process group (detached), stdout/stderr appended to
 * logFile, without keeping Node's event loop alive. Pass an env built from
 * process.env so the harness marker variable is inherited.
 */
export function spawnDetached(
  command: string,
  args: string[],
  options: { logFile: string; env: NodeJS.ProcessEnv; cwd?: string },
): DetachedProcess {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exit: string | null = null;
  child.on('exit', (code, signal) => {
    exit = `exited with ${code ?? signal}`;
  });
  child.on('error', (error) => {
    exit ??= `failed to start: ${error.message}`;
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  return { pid: child.pid, child, exited: () => exit };
}

/**
 * Polls `check` until it returns true, bounded by timeoutMs and by a round count.
 * `abortIf` returning a string stops early with that reason (e.g. the daemon died).
 */
export async function waitFor(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; what: string; abortIf?: () => string | null },
): Promise<void> {
  const interval = options.intervalMs ?? 200;
  const deadline = Date.now() + options.timeoutMs;
  const rounds = Math.ceil(options.timeoutMs / interval) + 1;
  for (let round = 0; round < rounds && Date.now() <= deadline; round++) {
    const abort = options.abortIf?.();
    if (abort) throw new Error(`${options.what}: ${abort}`);
    if (await check().catch(() => false)) return;
    await sleep(interval);
  }
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
}

/** True when GET url answers 2xx within timeoutMs. */
export async function httpOk(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not start or was killed on timeout. */
  readonly error?: string;
  readonly ms: number;
}

/**
 * Runs a command to completion (killed, with its process group, after timeoutMs).
 * With logFile, stdout/stderr are also appended there. Output kept in memory is capped.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string; logFile?: string },
): Promise<CommandResult> {
  const started = Date.now();
  const cap = 4 * 1024 * 1024;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let logFd: number | undefined;
    let child: ChildProcess;
    try {
      if (options.logFile) logFd = openSync(options.logFile, 'a');
      child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      if (logFd !== undefined) closeSync(logFd);
      resolve({ code: null, stdout, stderr, error: (error as Error).message, ms: Date.now() - started });
      return;
    }
    let error: string | undefined;
    const write = (chunk: Buffer) => {
      if (logFd !== undefined) {
        try {
          appendChunk(logFd, chunk);
        } catch {
          /* log is best effort */
        }
      }
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdout.length < cap) stdout += chunk.toString();
      write(chunk);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < cap) stderr += chunk.toString();
      write(chunk);
    });
    const timer = setTimeout(() => {
      error = `timed out after ${options.timeoutMs} ms`;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeoutMs);
    let settled = false;
    const finish = (code: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (logFd !== undefined) closeSync(logFd);
      resolve({ code: error ? null : code, stdout, stderr, error, ms: Date.now() - started });
    };
    child.once('error', (e) => {
      error ??= e.message;
      finish(null);
    });
    child.once('close', (code) => finish(code));
  });
}

/** Synchronous append keeps the interleaving of stdout and stderr roughly in order. */
function appendChunk(fd: number, chunk: Buffer): void {
  let offset = 0;
  for (let i = 0; i < 1000 && offset < chunk.length; i++) {
    offset += writeSync(fd, chunk, offset, chunk.length - offset);
  }
}

/** Last `lines` lines of a text file (reads at most the last 64 KiB). */
export function tail(file: string, lines = 40): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8').split('\n').slice(-lines).join('\n');
    } finally {
      closeSync(fd);
    }
  } catch {
    return `(no log at ${file})`;
  }
}

/** JAVA_HOME of a given `java` executable (resolving symlinks), or null. */
export function javaHomeOf(javaExecutable: string): string | null {
  try {
    return path.dirname(path.dirname(realpathSync(javaExecutable)));
  } catch {
    return null;
  }
}
