/**
 * OS-process helpers for the real-services harness and the service definitions:
 * free loopback ports, daemons in their own process group with output to a log
 * file, bounded waits, log tails, and careful killing (process groups, pid-reuse
 * check through /proc start times, SIGTERM then SIGKILL).
 *
 * Every wait loop here is bounded both in time and in iterations.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * Environment variable every process started for a service instance inherits
 * (the harness sets it while provision()/start() run). Value:
 * `<cacheRootId>/<service>/<instanceId>`. Reaping finds leftover processes by it.
 */
export const MARKER_ENV = 'DEALFINDER_SERVICE_MARK';

// ---------------------------------------------------------------- ports

const handedOut = new Set<number>();

/**
 * A TCP port that is free on 127.0.0.1 right now (the kernel picks it). Ports
 * handed out earlier by this process are not returned again, so one start() can
 * call it several times and get distinct ports.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: could not find a free port on 127.0.0.1 after 20 attempts');
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function tcpProbe(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

// ---------------------------------------------------------------- /proc

interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks since boot; together with the pid it names a process uniquely. */
  startTime: string;
}

function readProcStat(pid: number): ProcStat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]), startTime: rest[19] ?? '' };
  } catch {
    return null;
  }
}

/** A process as recorded in state files: the start time guards against pid reuse. */
export interface ProcessRef {
  pid: number;
  /** From /proc/<pid>/stat; null when unknown (non-Linux, or the process was already gone). */
  startTime: string | null;
}

export function processRef(pid: number): ProcessRef {
  return { pid, startTime: readProcStat(pid)?.startTime ?? null };
}

/** Alive and not a zombie. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readProcStat(pid);
  if (stat && (stat.state === 'Z' || stat.state === 'X')) return false;
  return true;
}

/** Alive and still the same process that was recorded (not a reused pid). */
export function isRefAlive(ref: ProcessRef): boolean {
  if (!isPidAlive(ref.pid)) return false;
  if (ref.startTime === null) return true;
  const now = readProcStat(ref.pid);
  return now === null ? true : now.startTime === ref.startTime;
}

/** True when a process group with this id still has members. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(ref: ProcessRef, sig: NodeJS.Signals): void {
  const alive = isPidAlive(ref.pid);
  if (alive && !isRefAlive(ref)) return; // pid reused by an unrelated process: leave it alone
  const stat = alive ? readProcStat(ref.pid) : null;
  // A dead leader's pgid cannot be reused while members of its group remain, so
  // signalling -pid after the leader died only reaches our own leftovers.
  const asGroup = alive ? stat?.pgrp === ref.pid : groupExists(ref.pid);
  try {
    if (asGroup) process.kill(-ref.pid, sig);
    else if (alive) process.kill(ref.pid, sig);
  } catch {
    /* already gone */
  }
}

function refGone(ref: ProcessRef): boolean {
  return !isRefAlive(ref) && !groupExists(ref.pid);
}

/**
 * SIGTERM every process (whole process group when it leads one), wait up to
 * graceMs for all to exit, then SIGKILL what is left and wait a little more.
 * Returns the pids that survived even SIGKILL (normally none).
 */
export async function killProcesses(refs: ProcessRef[], graceMs = 10_000): Promise<number[]> {
  const live = refs.filter((r) => !refGone(r));
  if (live.length === 0) return [];
  for (const r of live) signal(r, 'SIGTERM');
  await waitUntilQuiet(live, graceMs);
  const stubborn = live.filter((r) => !refGone(r));
  for (const r of stubborn) signal(r, 'SIGKILL');
  await waitUntilQuiet(stubborn, 5_000);
  return stubborn.filter((r) => !refGone(r)).map((r) => r.pid);
}

async function waitUntilQuiet(refs: ProcessRef[], timeoutMs: number): Promise<void> {
  const interval = 100;
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < Math.ceil(timeoutMs / interval) + 1 && Date.now() < deadline; i++) {
    if (refs.every(refGone)) return;
    await sleep(interval);
  }
}

/**
 * Processes whose environment carries MARKER_ENV with a value accepted by
 * `accept`. Only processes of the current user are readable, which is all we
 * ever start. Linux only; returns [] elsewhere.
 */
export function findMarkedProcesses(accept: (markValue: string) => boolean): ProcessRef[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: ProcessRef[] = [];
  const needle = `${MARKER_ENV}=`;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    const at = environ.indexOf(needle);
    if (at < 0) continue;
    const end = environ.indexOf('\0', at);
    const value = environ.slice(at + needle.length, end < 0 ? undefined : end);
    if (accept(value) && isPidAlive(pid)) found.push(processRef(pid));
  }
  return found;
}

// ---------------------------------------------------------------- logs

/** Last `lines` lines of a (possibly large) text file; '' when it does not exist. */
export function tailFile(file: string, lines = 60, maxBytes = 256 * 1024): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.length > 0 && all[all.length - 1] === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------- spawning

export interface SpawnToLogOptions {
  cwd?: string;
  /** Full environment; defaults to process.env (keep process.env in it so the harness marker is inherited). */
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
}

export interface Daemon {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Exit code/signal once the process has exited, else null. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
}

/**
 * Starts a long-running server in its own process group (detached, so the
 * whole group can be killed with -pgid), stdout/stderr appended to logFile,
 * not keeping the Node event loop alive.
 */
export function spawnDaemon(command: string, args: string[], options: SpawnToLogOptions): Daemon {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.on('exit', (code, sig) => {
    exit = { code, signal: sig };
  });
  child.on('error', () => {
    exit ??= { code: -1, signal: null };
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  const pid = child.pid;
  return { pid, child, exited: () => exit };
}

export interface RunToLogOptions extends SpawnToLogOptions {
  /** Kill the command (its whole process group) after this long. */
  timeoutMs: number;
  /** Lines of log tail put into the error message on failure. */
  tailLines?: number;
}

/**
 * Runs a command to completion with output appended to logFile. Rejects on a
 * non-zero exit or on timeout, with the log tail in the message.
 */
export async function runToLog(command: string, args: string[], options: RunToLogOptions): Promise<void> {
  const daemon = spawnDaemon(command, args, options);
  daemon.child.ref();
  const started = Date.now();
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>(
    (resolve) => {
      const timer = setTimeout(() => {
        void killProcesses([processRef(daemon.pid)], 5_000).then(() =>
          resolve({ code: null, signal: 'SIGKILL', timedOut: true }),
        );
      }, options.timeoutMs);
      daemon.child.once('close', (code, sig) => {
        clearTimeout(timer);
        resolve({ code, signal: sig, timedOut: false });
      });
      daemon.child.once('error', () => {
        clearTimeout(timer);
        resolve({ code: -1, signal: null, timedOut: false });
      });
    },
  );
  if (result.code === 0 && !result.timedOut) return;
  const what = result.timedOut
    ? `timed out after ${Math.round((Date.now() - started) / 1000)}s`
    : `exited with ${result.code ?? result.signal}`;
  const tail = tailFile(options.logFile, options.tailLines ?? 60);
  throw new Error(
    `${command} ${args.join(' ')} ${what}\n--- last lines of ${options.logFile} ---\n${tail}\n--- end of log ---`,
  );
}

/** First executable called `name` on PATH, or null. */
export function which(name: string): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      const st = statSync(candidate);
      if (st.isFile() && (st.mode & 0o111) !== 0) return candidate;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Runs a short command and returns its combined output (for version checks); null on failure. */
export async function captureOutput(
  command: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<string | null> {
  return new Promise((resolve) => {
    let out = '';
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      resolve(null);
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : null);
    });
  });
}

// ---------------------------------------------------------------- waiting

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What we are waiting for, used in the timeout error. */
  what: string;
  /** Called every round; throw from it to abort early (e.g. the daemon died). */
  abortIf?: () => void;
}

/**
 * Polls `check` until it returns a non-undefined value, bounded by timeoutMs and
 * by timeoutMs/intervalMs + 1 rounds. Errors thrown by `check` count as "not yet";
 * the last one is reported on timeout.
 */
export async function waitUntil<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const interval = options.intervalMs ?? 250;
  const deadline = Date.now() + options.timeoutMs;
  const maxRounds = Math.ceil(options.timeoutMs / interval) + 1;
  let lastError: unknown;
  for (let round = 0; round < maxRounds && Date.now() <= deadline; round++) {
    options.abortIf?.();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(interval);
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}`);
}
