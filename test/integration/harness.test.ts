/**
 * Self-test of the real-services harness core with a fake service (a tiny Node
 * TCP server) in a scratch cache: reuse, cross-process locking, failure log
 * tails, start timeouts, and reaping of instances whose owner died.
 * Needs nothing but Node, so it never skips.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  down,
  readState,
  reapStale,
  releaseRun,
  ServiceStartError,
  status,
  up,
} from '../services/harness.js';
import { cacheRootId } from '../services/paths.js';
import {
  findMarkedProcesses,
  freePort,
  isPidAlive,
  processRef,
  spawnDaemon,
  tcpProbe,
  waitUntil,
} from '../services/process.js';
import { registerServiceForTesting } from '../services/registry.js';
import type { ServiceContext, ServiceDefinition, ServiceName } from '../services/types.js';

const servicesDir = fileURLToPath(new URL('../services/', import.meta.url));
// A real ServiceName is needed by the types; the scratch cache keeps it away from real instances.
const FAKE = 'moto' as ServiceName;

let scratch: string;
const savedEnv = { ...process.env };

/** Server script: prints a few lines, then listens (or exits 1 when FAKE_FAIL is set). */
const SERVER = `
const net = require('node:net');
for (let i = 1; i <= 80; i++) console.log('fake log line ' + i);
if (process.env.FAKE_FAIL) { console.error('FATAL: fake failure requested'); process.exit(1); }
net.createServer((s) => s.end()).listen(Number(process.env.FAKE_PORT), '127.0.0.1');
`;

type Mode = 'ok' | 'fail' | 'hang';

function fakeDefinition(mode: () => Mode): ServiceDefinition {
  return {
    name: FAKE,
    description: 'fake TCP server for harness self-tests',
    startTimeoutMs: 3_000,
    provisionTimeoutMs: 5_000,
    async checkPrerequisites() {
      return null;
    },
    async provision(ctx: ServiceContext) {
      writeFileSync(path.join(ctx.cacheDir, 'provisioned'), 'yes');
    },
    async start(ctx: ServiceContext) {
      const port = await freePort();
      writeFileSync(path.join(ctx.cacheDir, 'starts.log'), `${process.pid}\n`, { flag: 'a' });
      const env = { ...process.env, FAKE_PORT: String(port), FAKE_FAIL: mode() === 'fail' ? '1' : '' };
      const daemon = spawnDaemon(process.execPath, ['-e', SERVER], { logFile: ctx.logFile, env });
      if (mode() === 'hang') await new Promise(() => undefined); // never resolves: harness must time out
      await waitUntil(async () => ((await tcpProbe('127.0.0.1', port, 300)) ? true : undefined), {
        timeoutMs: 2_500,
        intervalMs: 50,
        what: 'fake server',
        abortIf: () => {
          if (daemon.exited()) throw new Error('fake server exited');
        },
      });
      return { pids: [daemon.pid], env: { FAKE_URL: `http://127.0.0.1:${port}` } };
    },
  };
}

let mode: Mode = 'ok';
let unregister: () => void;

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'dealfinder-harness-'));
  process.env.DEALFINDER_CACHE_DIR = scratch;
  unregister = registerServiceForTesting(fakeDefinition(() => mode));
});

afterAll(async () => {
  await down([FAKE], { print: () => undefined });
  unregister();
  process.env = savedEnv;
  rmSync(scratch, { recursive: true, force: true });
});

const quiet = { print: () => undefined };

function setEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

function starts(): number {
  try {
    return readFileSync(path.join(scratch, 'services', FAKE, 'starts.log'), 'utf8')
      .trim()
      .split('\n').length;
  } catch {
    return 0;
  }
}

/** Runs `up` for the fake service in a separate Node process (own lock client, own registry). */
function upInChild(extraEnv: Record<string, string> = {}): Promise<string> {
  const script = path.join(scratch, 'child-up.mts');
  writeFileSync(
    script,
    `import { up } from ${JSON.stringify(path.join(servicesDir, 'harness.ts'))};
import { registerServiceForTesting } from ${JSON.stringify(path.join(servicesDir, 'registry.ts'))};
import { spawnDaemon, freePort, tcpProbe, waitUntil } from ${JSON.stringify(path.join(servicesDir, 'process.ts'))};
import { writeFileSync } from 'node:fs';
import path from 'node:path';
const SERVER = ${JSON.stringify(SERVER)};
registerServiceForTesting({
  name: ${JSON.stringify(FAKE)}, description: 'fake', startTimeoutMs: 5000, provisionTimeoutMs: 5000,
  async checkPrerequisites() { return null; },
  async provision() {},
  async start(ctx) {
    const port = await freePort();
    writeFileSync(path.join(ctx.cacheDir, 'starts.log'), process.pid + '\\n', { flag: 'a' });
    await new Promise((r) => setTimeout(r, 700)); // widen the race window
    const d = spawnDaemon(process.execPath, ['-e', SERVER], { logFile: ctx.logFile, env: { ...process.env, FAKE_PORT: String(port) } });
    await waitUntil(async () => ((await tcpProbe('127.0.0.1', port, 300)) ? true : undefined), { timeoutMs: 4000, intervalMs: 50, what: 'fake' });
    return { pids: [d.pid], env: { FAKE_URL: 'http://127.0.0.1:' + port } };
  },
});
const env = await up([${JSON.stringify(FAKE)}], { print: () => {} });
process.stdout.write(env.FAKE_URL);
`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, DEALFINDER_CACHE_DIR: scratch, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

describe('harness core (fake service)', () => {
  it('starts once, records state, reuses a healthy instance, and stops it', async () => {
    mode = 'ok';
    const env = await up([FAKE], quiet);
    expect(env.FAKE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const state = readState(FAKE)!;
    expect(state.status).toBe('running');
    expect(state.pids).toHaveLength(1);
    const pid = state.pids[0]!.pid;
    expect(isPidAlive(pid)).toBe(true);

    const again = await up([FAKE], quiet);
    expect(again).toEqual(env);
    expect(starts()).toBe(1);
    expect((await status([FAKE]))[0]?.health).toBe('running');

    expect(await down([FAKE], quiet)).toEqual([FAKE]);
    expect(isPidAlive(pid)).toBe(false);
    expect(readState(FAKE)).toBeNull();
  });

  it('never starts a service twice when processes race for it (cross-process lock)', async () => {
    rmSync(path.join(scratch, 'services', FAKE, 'starts.log'), { force: true });
    const urls = await Promise.all([upInChild(), upInChild(), upInChild()]);
    expect(new Set(urls).size).toBe(1);
    expect(starts()).toBe(1);
    await down([FAKE], quiet);
  });

  it('fails with the last lines of the service log when start fails, and leaves no process', async () => {
    mode = 'fail';
    const error = await up([FAKE], quiet).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceStartError);
    const message = (error as Error).message;
    expect(message).toContain('FATAL: fake failure requested');
    expect(message).toContain('fake log line 80');
    expect(message).not.toContain('fake log line 5\n'); // only the tail
    expect(readState(FAKE)?.status).toBe('failed');
    await down([FAKE], quiet);
  });

  it('kills what a start that timed out had spawned (found by its environment marker)', async () => {
    mode = 'hang';
    const before = Date.now();
    const error = await up([FAKE], quiet).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/timed out/);
    expect(Date.now() - before).toBeLessThan(30_000);
    const log = readFileSync(readState(FAKE)!.logFile, 'utf8');
    expect(log).toContain('fake log line 80'); // the daemon did run…
    // Only this scratch cache's marker: a real moto of another cache may be running meanwhile.
    expect(findMarkedProcesses((v) => v.startsWith(`${cacheRootId()}/${FAKE}/`))).toEqual([]); // …and is gone
    await down([FAKE], quiet);
  });

  it('hands an instance to another live run that uses it instead of stopping it', async () => {
    mode = 'ok';
    const saved = {
      id: process.env.DEALFINDER_RUN_ID,
      pid: process.env.DEALFINDER_RUN_PID,
      start: process.env.DEALFINDER_RUN_PID_START,
    };
    try {
      // Both "runs" are this live worker process.
      process.env.DEALFINDER_RUN_PID = String(process.pid);
      process.env.DEALFINDER_RUN_PID_START = processRef(process.pid).startTime ?? '';
      process.env.DEALFINDER_RUN_ID = 'run-a';
      await up([FAKE], quiet);
      process.env.DEALFINDER_RUN_ID = 'run-b';
      await up([FAKE], quiet);
      const shared = readState(FAKE)!;
      expect(shared.users).toEqual([expect.objectContaining({ kind: 'run', runId: 'run-b' })]);
      const pid = shared.pids[0]!.pid;

      expect(await releaseRun('run-a', false, quiet)).toEqual([]);
      expect(isPidAlive(pid)).toBe(true);
      expect(readState(FAKE)?.owner).toMatchObject({ kind: 'run', runId: 'run-b' });

      expect(await releaseRun('run-b', false, quiet)).toEqual([FAKE]);
      expect(isPidAlive(pid)).toBe(false);
    } finally {
      setEnv('DEALFINDER_RUN_ID', saved.id);
      setEnv('DEALFINDER_RUN_PID', saved.pid);
      setEnv('DEALFINDER_RUN_PID_START', saved.start);
      await down([FAKE], quiet);
    }
  });

  it('reaps an instance whose owning run died, and keeps one started by the CLI', async () => {
    mode = 'ok';
    // An owner that is certainly gone: a process that has already exited.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('close', r));
    await upInChild({ DEALFINDER_RUN_ID: 'crashed-run', DEALFINDER_RUN_PID: String(dead.pid) });
    const orphan = readState(FAKE)!;
    expect(orphan.owner).toMatchObject({ kind: 'run', runId: 'crashed-run' });
    expect(isPidAlive(orphan.pids[0]!.pid)).toBe(true);

    expect(await reapStale({ names: [FAKE], ...quiet })).toEqual([FAKE]);
    expect(isPidAlive(orphan.pids[0]!.pid)).toBe(false);
    expect(readState(FAKE)).toBeNull();

    await up([FAKE], { owner: 'cli', ...quiet });
    const kept = readState(FAKE)!;
    expect(await reapStale({ names: [FAKE], ...quiet })).toEqual([]);
    expect(isPidAlive(kept.pids[0]!.pid)).toBe(true);
    await down([FAKE], quiet);
    expect(isPidAlive(kept.pids[0]!.pid)).toBe(false);
  });
});
