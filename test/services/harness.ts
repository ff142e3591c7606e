/**
 * Core of the real-services harness: provisions and starts service instances
 * (one per service and cache root), records them in state files, reuses healthy
 * ones, reaps stale ones, and stops them.
 *
 * Safe across processes: everything that changes an instance happens under a
 * proper-lockfile lock per service, so parallel vitest workers (and the CLI)
 * never start the same service twice. Within one process, operations run one at
 * a time (the environment marker below relies on that).
 *
 * Ownership decides who stops an instance:
 *  - 'cli'      started (or adopted) by `npm run services -- up`: test runs reuse it and leave it running;
 *  - 'kept'     left running by a test run with DEALFINDER_KEEP_SERVICES=1: reused, never reaped while healthy;
 *  - 'run'      started during a vitest run (DEALFINDER_RUN_ID/DEALFINDER_RUN_PID set by global-setup.ts):
 *               stopped by that run's teardown; reaped by the next start if the run's process is gone;
 *  - 'process'  started by some other process (no run id): reaped once that process is gone.
 */

import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import {
  cacheRootId,
  ensureDir,
  serviceCacheDir,
  serviceInstanceDir,
  serviceLockTarget,
  serviceLogFile,
  servicePrevLogFile,
  serviceRunRoot,
  serviceStateFile,
} from './paths.js';
import {
  findMarkedProcesses,
  isRefAlive,
  killProcesses,
  MARKER_ENV,
  type ProcessRef,
  processRef,
  sleep,
  tailFile,
  tcpProbe,
} from './process.js';
import { loadService, SERVICE_NAMES } from './registry.js';
import type { ServiceContext, ServiceDefinition, ServiceName } from './types.js';

// ---------------------------------------------------------------- types

export type Owner =
  | { kind: 'cli' }
  | { kind: 'kept' }
  | { kind: 'run'; runId: string; pid: number; startTime: string | null }
  | { kind: 'process'; pid: number; startTime: string | null };

export interface ServiceState {
  version: 1;
  name: ServiceName;
  /** 'starting' is written before start() so a crash mid-start can be reaped. */
  status: 'starting' | 'running' | 'failed';
  /** Random id of this instance; part of the environment marker its processes inherit. */
  instanceId: string;
  owner: Owner;
  /**
   * Other runs/processes that reuse this instance while its owner is a run or
   * process. When the owner's run ends, the instance is handed to a live user
   * instead of being stopped under its feet.
   */
  users?: Owner[];
  pids: ProcessRef[];
  env: Record<string, string>;
  logFile: string;
  runDir: string;
  startedAt: string;
  provisionMs?: number;
  startMs?: number;
  /** For status 'failed': the error message (without log tail). */
  error?: string;
}

export type ServiceHealth = 'running' | 'unhealthy' | 'starting' | 'failed' | 'stopped';

export interface ServiceStatus {
  name: ServiceName;
  health: ServiceHealth;
  /** Human-readable owner ('cli', 'kept', 'run <id> (pid 123, alive)'…), then ' + ' and any users. */
  owner: string | null;
  pids: number[];
  env: Record<string, string>;
  logFile: string;
  detail?: string;
}

/** A service cannot run on this machine (ServiceDefinition.checkPrerequisites gave a reason). */
export class ServicePrerequisiteError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly reason: string,
  ) {
    super(`${service}: prerequisite missing: ${reason}`);
    this.name = 'ServicePrerequisiteError';
  }
}

/** Provisioning or starting failed; the message carries the last lines of the service log. */
export class ServiceStartError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly phase: 'provision' | 'start' | 'lock',
    readonly detail: string,
    readonly logFile: string,
    readonly logTail: string,
  ) {
    super(
      `${service} failed to ${phase}: ${detail}\n` +
        `--- last ${logTail ? logTail.split('\n').length : 0} lines of ${logFile} ---\n${logTail}\n--- end of ${service} log ---`,
    );
    this.name = 'ServiceStartError';
  }
}

export interface UpOptions {
  /** 'cli' marks the instances as started by hand (test runs never stop them). Default: the current run/process. */
  owner?: 'cli' | 'auto';
  /** Progress output; default writes to stderr. */
  print?: (line: string) => void;
}

// ---------------------------------------------------------------- environment

export const TAIL_LINES = 60;

export function isCI(): boolean {
  const v = (process.env.CI ?? '').toLowerCase();
  return v === 'true' || v === '1';
}

export function currentRunId(): string | null {
  return process.env.DEALFINDER_RUN_ID || null;
}

function currentOwner(requested: 'cli' | 'auto' | undefined): Owner {
  if (requested === 'cli') return { kind: 'cli' };
  const runId = process.env.DEALFINDER_RUN_ID;
  const runPid = Number(process.env.DEALFINDER_RUN_PID);
  if (runId && Number.isInteger(runPid) && runPid > 0) {
    return { kind: 'run', runId, pid: runPid, startTime: process.env.DEALFINDER_RUN_PID_START ?? null };
  }
  return { kind: 'process', ...processRef(process.pid) };
}

function ownerAlive(owner: Owner): boolean {
  if (owner.kind === 'cli' || owner.kind === 'kept') return true;
  return isRefAlive({ pid: owner.pid, startTime: owner.startTime });
}

function sameOwner(a: Owner, b: Owner): boolean {
  if (a.kind === 'run') return b.kind === 'run' && a.runId === b.runId;
  if (a.kind === 'process') return b.kind === 'process' && a.pid === b.pid && a.startTime === b.startTime;
  return a.kind === b.kind;
}

/** Whether someone alive still holds the instance (its owner or one of its users). */
function holderAlive(state: ServiceState): boolean {
  return ownerAlive(state.owner) || (state.users ?? []).some(ownerAlive);
}

/** True when `who` may use the instance without registering (owner, user, or never stopped by runs). */
function isRegistered(state: ServiceState, who: Owner): boolean {
  if (state.owner.kind === 'cli' || state.owner.kind === 'kept') return true;
  return sameOwner(state.owner, who) || (state.users ?? []).some((u) => sameOwner(u, who));
}

export function describeOwner(owner: Owner): string {
  switch (owner.kind) {
    case 'cli':
      return 'cli';
    case 'kept':
      return 'kept';
    case 'run':
      return `run ${owner.runId} (pid ${owner.pid}, ${ownerAlive(owner) ? 'alive' : 'gone'})`;
    case 'process':
      return `process ${owner.pid} (${ownerAlive(owner) ? 'alive' : 'gone'})`;
  }
}

const defaultPrint = (line: string) => {
  process.stderr.write(`${line}\n`);
};

// ---------------------------------------------------------------- state files

export function readState(name: ServiceName): ServiceState | null {
  const file = serviceStateFile(name);
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as ServiceState;
    return parsed && parsed.version === 1 && parsed.name === name ? parsed : null;
  } catch {
    return null; // torn or foreign file: treated as absent (reaping still finds marked processes)
  }
}

function writeState(state: ServiceState): void {
  const file = serviceStateFile(state.name);
  ensureDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

function removeState(name: ServiceName): void {
  rmSync(serviceStateFile(name), { force: true });
}

// ---------------------------------------------------------------- health

const LOOPBACK_PORT = /\b(?:127\.0\.0\.1|localhost|\[::1\]):(\d{2,5})\b/g;

/** host:port pairs on loopback mentioned in the env values (KAFKA_BROKERS, OPENSEARCH_URL, …). */
export function loopbackEndpoints(env: Record<string, string>): Array<{ host: string; port: number }> {
  const seen = new Set<string>();
  const out: Array<{ host: string; port: number }> = [];
  for (const value of Object.values(env)) {
    for (const match of value.matchAll(LOOPBACK_PORT)) {
      const host = match[0].startsWith('[::1]') ? '::1' : '127.0.0.1';
      const port = Number(match[1]);
      const key = `${host}:${port}`;
      if (!seen.has(key) && port > 0 && port < 65536) {
        seen.add(key);
        out.push({ host, port });
      }
    }
  }
  return out;
}

/**
 * Fast check used before reusing an instance: every recorded pid is alive (and
 * is still the same process), and every loopback port named in its env accepts
 * TCP connections. Returns null when healthy, else why not.
 */
export async function checkHealth(state: ServiceState): Promise<string | null> {
  if (state.status !== 'running') return `status is ${state.status}`;
  const dead = state.pids.filter((p) => !isRefAlive(p));
  if (dead.length > 0) return `process(es) ${dead.map((p) => p.pid).join(', ')} not running`;
  for (const { host, port } of loopbackEndpoints(state.env)) {
    if (!(await tcpProbe(host, port, 1_500))) return `nothing listening on ${host}:${port}`;
  }
  return null;
}

// ---------------------------------------------------------------- locking & serialisation

let chain: Promise<unknown> = Promise.resolve();

/** Runs harness operations of this process one at a time. */
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = chain.then(fn, fn);
  chain = next.catch(() => undefined);
  return next;
}

async function withServiceLock<T>(
  name: ServiceName,
  waitMs: number,
  print: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const target = serviceLockTarget(name);
  ensureDir(path.dirname(target));
  const intervalMs = 500;
  const deadline = Date.now() + waitMs;
  const maxRounds = Math.ceil(waitMs / intervalMs) + 1;
  let release: (() => Promise<void>) | undefined;
  let announced = false;
  for (let round = 0; round < maxRounds; round++) {
    try {
      release = await lockfile.lock(target, {
        realpath: false,
        stale: 30_000,
        update: 5_000,
        onCompromised: (error) => print(`[services:${name}] warning: lock compromised (${error.message})`),
      });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) break;
      if (!announced) {
        print(`[services:${name}] waiting for another process that holds ${target}.lock…`);
        announced = true;
      }
      await sleep(intervalMs);
    }
  }
  if (!release) {
    throw new ServiceStartError(
      name,
      'lock',
      `timed out after ${Math.round(waitMs / 1000)}s waiting for ${target}.lock`,
      serviceLogFile(name),
      tailFile(serviceLogFile(name), TAIL_LINES),
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- context & marker

function makeContext(def: ServiceDefinition, print: (line: string) => void): ServiceContext {
  const name = def.name;
  const logFile = serviceLogFile(name);
  ensureDir(serviceRunRoot(name));
  return {
    cacheDir: ensureDir(serviceCacheDir(name)),
    runDir: serviceInstanceDir(name),
    logFile,
    ci: isCI(),
    log: (message: string) => {
      print(`[services:${name}] ${message}`);
      try {
        appendFileSync(logFile, `[harness ${new Date().toISOString()}] ${message}\n`);
      } catch {
        /* log dir vanished: progress output is best effort */
      }
    },
  };
}

function markValue(name: ServiceName, instanceId: string): string {
  return `${cacheRootId()}/${name}/${instanceId}`;
}

/**
 * Runs fn with MARKER_ENV set in process.env, so every process it spawns inherits
 * it. The marker is removed when fn settles or when `limitMs` passes, whichever
 * comes first (then the returned promise rejects with a TimeoutError).
 */
async function withMarker<T>(value: string, limitMs: number, what: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env[MARKER_ENV];
  process.env[MARKER_ENV] = value;
  try {
    return await withTimeout(fn(), limitMs, what);
  } finally {
    if (previous === undefined) delete process.env[MARKER_ENV];
    else process.env[MARKER_ENV] = previous;
  }
}

/** Processes of `name` under this cache root (optionally only of one instance). */
function markedProcesses(name: ServiceName, instanceId?: string): ProcessRef[] {
  const prefix = `${cacheRootId()}/${name}/`;
  return findMarkedProcesses((v) => (instanceId ? v === prefix + instanceId : v.startsWith(prefix)));
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`${what} timed out after ${Math.round(ms / 1000)}s`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function firstPart(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Nested errors from runToLog already carry a log tail; the outer error adds its own.
  const cut = message.indexOf('\n--- last lines of');
  return (cut >= 0 ? message.slice(0, cut) : message).trim();
}

// ---------------------------------------------------------------- stopping

/** Kills an instance's processes (recorded pids, then anything still carrying its marker). */
async function killInstance(
  name: ServiceName,
  state: ServiceState | null,
  anyInstance: boolean,
): Promise<number[]> {
  const refs: ProcessRef[] = [...(state?.pids ?? [])];
  refs.push(...markedProcesses(name, anyInstance ? undefined : state?.instanceId));
  const survivors = await killProcesses(refs, 15_000);
  // Children that were re-parented away from a killed group but still carry the marker.
  const leftovers = markedProcesses(name, anyInstance ? undefined : state?.instanceId);
  if (leftovers.length > 0) survivors.push(...(await killProcesses(leftovers, 5_000)));
  return survivors;
}

async function reapUnderLock(
  name: ServiceName,
  state: ServiceState | null,
  why: string,
  print: (l: string) => void,
) {
  const pids = state?.pids.filter(isRefAlive).map((p) => p.pid) ?? [];
  const marked = markedProcesses(name);
  if (state || marked.length > 0) {
    const list = [...new Set([...pids, ...marked.map((m) => m.pid)])];
    if (list.length > 0) print(`[services:${name}] reaping ${why}: killing pid(s) ${list.join(', ')}`);
  }
  const survivors = await killInstance(name, state, true);
  if (survivors.length > 0)
    print(`[services:${name}] warning: pid(s) ${survivors.join(', ')} survived SIGKILL`);
  removeState(name);
}

// ---------------------------------------------------------------- up

async function ensureOne(name: ServiceName, options: UpOptions): Promise<ServiceState> {
  const print = options.print ?? defaultPrint;
  const wanted = currentOwner(options.owner);

  // Fast path without the lock: a healthy instance whose owner is alive.
  const seen = readState(name);
  if (seen && seen.status === 'running' && holderAlive(seen) && (await checkHealth(seen)) === null) {
    if (wanted.kind === 'cli' ? seen.owner.kind === 'cli' : isRegistered(seen, wanted)) return seen;
  }

  const def = await loadService(name);
  const lockWait = def.provisionTimeoutMs + def.startTimeoutMs + 60_000;
  return withServiceLock(name, lockWait, print, async () => {
    const state = readState(name);
    if (state) {
      const runId = currentRunId();
      if (state.status === 'running' && holderAlive(state)) {
        const unhealthy = await checkHealth(state);
        if (unhealthy === null) {
          if (wanted.kind === 'cli' && state.owner.kind !== 'cli') {
            const adopted: ServiceState = { ...state, owner: wanted, users: [] };
            writeState(adopted);
            return adopted;
          }
          if (!isRegistered(state, wanted)) {
            const shared: ServiceState = {
              ...state,
              users: [...(state.users ?? []).filter(ownerAlive), wanted],
            };
            writeState(shared);
            return shared;
          }
          return state;
        }
        await reapUnderLock(name, state, `unhealthy instance (${unhealthy})`, print);
      } else if (
        state.status === 'failed' &&
        runId &&
        state.owner.kind === 'run' &&
        state.owner.runId === runId
      ) {
        // Already failed in this run (another worker tried): fail fast with the same story.
        throw new ServiceStartError(
          name,
          'start',
          `already failed earlier in this run: ${state.error ?? 'unknown error'}`,
          state.logFile,
          tailFile(state.logFile, TAIL_LINES),
        );
      } else {
        const why =
          state.status === 'running'
            ? `instance left by ${describeOwner(state.owner)}`
            : `${state.status} instance left by ${describeOwner(state.owner)}`;
        await reapUnderLock(name, state, why, print);
      }
    } else {
      const orphans = markedProcesses(name);
      if (orphans.length > 0) await reapUnderLock(name, null, 'orphaned processes', print);
    }

    const reason = await def.checkPrerequisites();
    if (reason) throw new ServicePrerequisiteError(name, reason);
    return startFresh(def, wanted, print);
  });
}

async function startFresh(
  def: ServiceDefinition,
  owner: Owner,
  print: (line: string) => void,
): Promise<ServiceState> {
  const name = def.name;
  const ctx = makeContext(def, print);
  // Keep the previous instance's log for post-mortems; this instance starts a fresh one.
  if (existsSync(ctx.logFile)) renameSync(ctx.logFile, servicePrevLogFile(name));
  writeFileSync(ctx.logFile, '');

  const instanceId = randomUUID().slice(0, 8);
  const base: ServiceState = {
    version: 1,
    name,
    status: 'starting',
    instanceId,
    owner,
    pids: [],
    env: {},
    logFile: ctx.logFile,
    runDir: ctx.runDir,
    startedAt: new Date().toISOString(),
  };
  writeState(base);

  const fail = async (phase: 'provision' | 'start', error: unknown, extraPids: number[] = []) => {
    const cause = firstPart(error);
    ctx.log(`${phase} failed: ${cause.split('\n')[0]}`);
    await killProcesses(extraPids.map(processRef), 10_000);
    await killInstance(name, base, false);
    writeState({ ...base, status: 'failed', error: `${phase}: ${cause}` });
    return new ServiceStartError(name, phase, cause, ctx.logFile, tailFile(ctx.logFile, TAIL_LINES));
  };

  // Provision (idempotent; fast no-op when the cache is complete).
  const provisionStarted = Date.now();
  try {
    await withMarker(markValue(name, instanceId), def.provisionTimeoutMs, `${name} provision`, () =>
      def.provision(ctx),
    );
  } catch (error) {
    throw await fail('provision', error);
  }
  const provisionMs = Date.now() - provisionStarted;

  rmSync(ctx.runDir, { recursive: true, force: true });
  ensureDir(ctx.runDir);
  ctx.log(`starting (timeout ${Math.round(def.startTimeoutMs / 1000)}s)`);
  const startStarted = Date.now();
  let starting: Promise<Awaited<ReturnType<ServiceDefinition['start']>>> | undefined;
  let started: Awaited<ReturnType<ServiceDefinition['start']>>;
  try {
    started = await withMarker(markValue(name, instanceId), def.startTimeoutMs, `${name} start`, () => {
      starting = def.start(ctx);
      return starting;
    });
  } catch (error) {
    if (error instanceof TimeoutError && starting) {
      // start() keeps running in the background; kill whatever it still brings up.
      starting.then((late) => killProcesses(late.pids.map(processRef), 5_000)).catch(() => undefined);
    }
    throw await fail('start', error);
  }
  const state: ServiceState = {
    ...base,
    status: 'running',
    pids: started.pids.map(processRef),
    env: { ...started.env },
    provisionMs,
    startMs: Date.now() - startStarted,
  };
  writeState(state);
  ctx.log(
    `ready in ${(state.startMs! / 1000).toFixed(1)}s (provision check ${(provisionMs / 1000).toFixed(1)}s): ` +
      Object.entries(state.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
  );
  return state;
}

/**
 * Makes sure every named service runs (reusing healthy instances, starting the
 * others one after the other) and returns their merged env.
 * Throws ServicePrerequisiteError or ServiceStartError (with the log tail).
 */
export function up(names: readonly ServiceName[], options: UpOptions = {}): Promise<Record<string, string>> {
  return serial(async () => {
    const env: Record<string, string> = {};
    for (const name of names) Object.assign(env, (await ensureOne(name, options)).env);
    return env;
  });
}

/** Downloads/installs only (no start). */
export function provision(names: readonly ServiceName[], options: { print?: (line: string) => void } = {}) {
  const print = options.print ?? defaultPrint;
  return serial(async () => {
    const timings: Record<string, number> = {};
    for (const name of names) {
      const def = await loadService(name);
      const reason = await def.checkPrerequisites();
      if (reason) throw new ServicePrerequisiteError(name, reason);
      await withServiceLock(name, def.provisionTimeoutMs + 60_000, print, async () => {
        const ctx = makeContext(def, print);
        const startedAt = Date.now();
        const markId = `provision-${randomUUID().slice(0, 8)}`;
        try {
          await withMarker(markValue(name, markId), def.provisionTimeoutMs, `${name} provision`, () =>
            def.provision(ctx),
          );
        } catch (error) {
          await killProcesses(markedProcesses(name, markId), 5_000).catch(() => undefined);
          throw new ServiceStartError(
            name,
            'provision',
            firstPart(error),
            ctx.logFile,
            tailFile(ctx.logFile, TAIL_LINES),
          );
        }
        timings[name] = Date.now() - startedAt;
        ctx.log(`provisioned in ${(timings[name] / 1000).toFixed(1)}s`);
      });
    }
    return timings;
  });
}

// ---------------------------------------------------------------- down / reap / status

function namesWithState(): ServiceName[] {
  return SERVICE_NAMES.filter((n) => existsSync(serviceStateFile(n)));
}

/**
 * Stops the named services (default: every service with a state file), whoever
 * started them. Returns the names that had an instance.
 */
export function down(names?: readonly ServiceName[], options: { print?: (line: string) => void } = {}) {
  const print = options.print ?? defaultPrint;
  return serial(async () => {
    const targets = names && names.length > 0 ? [...names] : namesWithState();
    const stopped: ServiceName[] = [];
    for (const name of targets) {
      await lockedOrForced(name, print, async () => {
        const state = readState(name);
        const orphans = markedProcesses(name);
        if (!state && orphans.length === 0) return;
        print(
          `[services:${name}] stopping${state ? ` (pids ${state.pids.map((p) => p.pid).join(', ') || 'none'})` : ''}`,
        );
        const survivors = await killInstance(name, state, true);
        if (survivors.length > 0)
          print(`[services:${name}] warning: pid(s) ${survivors.join(', ')} survived SIGKILL`);
        removeState(name);
        stopped.push(name);
      });
    }
    return stopped;
  });
}

/** Takes the lock for up to 2 minutes; if it cannot, goes ahead anyway (stopping must not hang). */
async function lockedOrForced(name: ServiceName, print: (l: string) => void, fn: () => Promise<void>) {
  try {
    await withServiceLock(name, 120_000, print, fn);
  } catch (error) {
    if (error instanceof ServiceStartError && error.phase === 'lock') {
      print(`[services:${name}] warning: ${error.detail}; proceeding without the lock`);
      await fn();
    } else {
      throw error;
    }
  }
}

function involvesRun(state: ServiceState | null, runId: string): state is ServiceState {
  if (!state) return false;
  const isRun = (o: Owner) => o.kind === 'run' && o.runId === runId;
  return isRun(state.owner) || (state.users ?? []).some(isRun);
}

/**
 * Ends a test run's claim on the instances it started or reused. An instance the
 * run owns is stopped — unless DEALFINDER_KEEP_SERVICES=1 (keep: it becomes
 * 'kept') or another live run still uses it (it is handed over to that run).
 * Instances owned by someone else alive ('cli', 'kept', another run) stay up.
 */
export function releaseRun(runId: string, keep: boolean, options: { print?: (line: string) => void } = {}) {
  const print = options.print ?? defaultPrint;
  const isMe = (o: Owner) => o.kind === 'run' && o.runId === runId;
  return serial(async () => {
    const stopped: ServiceName[] = [];
    for (const name of namesWithState()) {
      if (!involvesRun(readState(name), runId)) continue;
      await lockedOrForced(name, print, async () => {
        const state = readState(name);
        if (!involvesRun(state, runId)) return;
        const users = (state.users ?? []).filter((u) => !isMe(u) && ownerAlive(u));
        const ownerIsMe = isMe(state.owner);
        const ownerLives = !ownerIsMe && ownerAlive(state.owner);
        if (ownerLives) {
          writeState({ ...state, users });
        } else if (keep && state.status === 'running') {
          writeState({ ...state, owner: { kind: 'kept' }, users: [] });
          print(
            `[services:${name}] left running (DEALFINDER_KEEP_SERVICES=1); stop with: npm run services -- down ${name}`,
          );
        } else if (users.length > 0 && state.status === 'running') {
          const [heir, ...rest] = users as [Owner, ...Owner[]];
          writeState({ ...state, owner: heir, users: rest });
          print(`[services:${name}] still used by ${describeOwner(heir)}: handed over, not stopped`);
        } else {
          const survivors = await killInstance(name, state, false);
          if (survivors.length > 0)
            print(`[services:${name}] warning: pid(s) ${survivors.join(', ')} survived SIGKILL`);
          removeState(name);
          stopped.push(name);
        }
      });
    }
    return stopped;
  });
}

/**
 * Reaps what earlier, crashed runs left behind: instances whose owning run or
 * process is gone, unhealthy or half-started instances, and marked processes
 * with no state file. Healthy instances of live owners ('cli', 'kept', other live
 * runs) are left alone. A service whose lock is busy is skipped.
 */
export function reapStale(options: { print?: (line: string) => void; names?: readonly ServiceName[] } = {}) {
  const print = options.print ?? defaultPrint;
  return serial(async () => {
    const reaped: ServiceName[] = [];
    for (const name of options.names ?? SERVICE_NAMES) {
      const hasState = existsSync(serviceStateFile(name));
      if (!hasState && markedProcesses(name).length === 0) continue;
      try {
        await withServiceLock(name, 20_000, print, async () => {
          const state = readState(name);
          let why: string | null = null;
          if (!state) {
            if (markedProcesses(name).length > 0) why = 'orphaned processes without a state file';
            else if (hasState) removeState(name);
          } else if (!holderAlive(state)) {
            why = `${state.status} instance of ${describeOwner(state.owner)}`;
          } else if (state.status !== 'running') {
            why = `${state.status} instance (no process holds the lock)`;
          } else {
            const unhealthy = await checkHealth(state);
            if (unhealthy) why = `unhealthy instance (${unhealthy})`;
          }
          if (why) {
            await reapUnderLock(name, state, why, print);
            reaped.push(name);
          }
        });
      } catch (error) {
        if (error instanceof ServiceStartError && error.phase === 'lock') {
          print(`[services:${name}] not reaped: its lock is busy`);
        } else {
          throw error;
        }
      }
    }
    return reaped;
  });
}

export async function status(names: readonly ServiceName[] = SERVICE_NAMES): Promise<ServiceStatus[]> {
  const out: ServiceStatus[] = [];
  for (const name of names) {
    const state = readState(name);
    const logFile = serviceLogFile(name);
    if (!state) {
      out.push({ name, health: 'stopped', owner: null, pids: [], env: {}, logFile });
      continue;
    }
    let health: ServiceHealth;
    let detail: string | undefined;
    if (state.status === 'running') {
      const unhealthy = await checkHealth(state);
      health = unhealthy ? 'unhealthy' : 'running';
      detail = unhealthy ?? undefined;
      if (!holderAlive(state)) detail = `${detail ? `${detail}; ` : ''}owner gone: reaped on next start`;
    } else {
      health = state.status;
      detail = state.error;
    }
    out.push({
      name,
      health,
      owner: [state.owner, ...(state.users ?? [])].map(describeOwner).join(' + '),
      pids: state.pids.map((p) => p.pid),
      env: state.env,
      logFile: state.logFile,
      detail,
    });
  }
  return out;
}
