/**
 * OpenSearch 3.5.0 + k-NN 3.5.0.0, single node on 127.0.0.1, for the real-services harness.
 *
 * Provisioning (Maven Central only, through Maven itself):
 *   - org.opensearch.distribution.integ-test-zip:opensearch:3.5.0 (zip, ~194 MB). No bundled JDK,
 *     no security plugin (plain HTTP). Unlike the 2.x integ-test zips (transport-netty4 only), the
 *     3.5.0 zip carries all default modules, lang-painless and transport-grpc included, which are
 *     the two plugins k-NN extends: no module assembly is needed.
 *   - org.opensearch.plugin:opensearch-knn:3.5.0.0 (zip, ~6 MB), installed offline with
 *     `bin/opensearch-plugin install --batch file://…`. It holds the Java part only: the native
 *     faiss/nmslib JNI libraries are not in it, so only `engine: "lucene"` works. A faiss index
 *     can be created, but the first document written to it kills the node
 *     (java.lang.UnsatisfiedLinkError: no opensearchknn_faiss_avx512 in java.library.path), and
 *     faiss is the default engine when a knn_vector mapping gives no `method`.
 *
 * Runtime: OpenSearch 3.x needs Java 21+; the JDK is looked up in OPENSEARCH_JAVA_HOME,
 * JAVA_HOME and /usr/lib/jvm (the machine's Temurin 25). OpenSearch refuses to run as root, so
 * under root the daemon runs as the unprivileged system user `opensearch` (created on demand).
 * It is spawned with that uid/gid directly (not through runuser): `bin/opensearch` execs the
 * JVM, so the recorded pid *is* the JVM and the leader of its own process group.
 *
 * Each instance gets its own config dir (OPENSEARCH_PATH_CONF) under ctx.runDir, so the install
 * in ctx.cacheDir stays read-only and several instances can share it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { ServiceContext, ServiceDefinition, StartedService } from './types.js';

export const OPENSEARCH_VERSION = '3.5.0';
export const KNN_VERSION = '3.5.0.0';
const MIN_JAVA = 21;
const RUN_USER = 'opensearch';
const HEAP = '512m';
/** Pinned so provisioning does not depend on whatever plugin version Maven would pick. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
interface Artifact {
  groupId: string;
  artifactId: string;
  version: string;
  sha256: string;
  /** Whether Maven Central has .sha1 files for it (then Maven verifies them strictly too). */
  mavenChecksums: boolean;
}

/**
 * The distribution zip is published without .pom and without .sha1/.md5 files, so Maven cannot
 * check it (`--strict-checksums` fails with "Checksum validation failed, no checksums available"):
 * both zips are pinned by SHA-256 instead (values of the files this definition was tested with).
 */
const DIST: Artifact = {
  groupId: 'org.opensearch.distribution.integ-test-zip',
  artifactId: 'opensearch',
  version: OPENSEARCH_VERSION,
  sha256: 'b676ad392c95a94d8d2bd8785b8b922c7811536daf6a9ec0c7277a34bd8a17a9',
  mavenChecksums: false,
};
const KNN: Artifact = {
  groupId: 'org.opensearch.plugin',
  artifactId: 'opensearch-knn',
  version: KNN_VERSION,
  sha256: '99fdf3ac9ef95974e276298b83a58532bf21ba13bd5fd96a4b59465b7e613309',
  mavenChecksums: true,
};

const START_TIMEOUT_MS = 180_000;
const PROVISION_TIMEOUT_MS = 20 * 60_000;
const HEALTH_POLL_MS = 500;
/** A free port can be taken between picking it and the JVM binding it: retry that case only. */
const MAX_START_ATTEMPTS = 3;

// ---------------------------------------------------------------------------------------------
// Small local helpers (the core may later offer shared ones).

/** A port that was free on 127.0.0.1 a moment ago. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

async function pickDistinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let i = 0; i < count * 10 && ports.size < count; i++) ports.add(await pickFreePort());
  if (ports.size < count) throw new Error(`could not pick ${count} distinct free ports on 127.0.0.1`);
  return [...ports];
}

function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function fileTail(file: string, lines = 40): string {
  try {
    return tail(readFileSync(file, 'utf8'), lines);
  } catch {
    return '(no log)';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion with a hard time limit; rejects with the output tail on failure. */
function run(
  command: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not be started: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (${signal ? `killed by ${signal}${signal === 'SIGKILL' ? `, time limit ${opts.timeoutMs} ms` : ''}` : `exit ${code}`}):\n${tail(output)}`,
          ),
        );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// JDK and user.

export interface Jdk {
  home: string;
  major: number;
}

function jdkMajor(home: string): number | null {
  try {
    if (!existsSync(path.join(home, 'bin', 'java'))) return null;
    const release = readFileSync(path.join(home, 'release'), 'utf8');
    const match = /^JAVA_VERSION="(\d+)(?:\.(\d+))?/m.exec(release);
    if (!match) return null;
    const first = Number(match[1]);
    return first === 1 && match[2] ? Number(match[2]) : first; // "1.8.0" style
  } catch {
    return null;
  }
}

/** A JDK that can run OpenSearch 3.x: the first of OPENSEARCH_JAVA_HOME, JAVA_HOME that fits, else the newest in /usr/lib/jvm. */
export function findJdk(): Jdk | null {
  for (const home of [process.env.OPENSEARCH_JAVA_HOME, process.env.JAVA_HOME]) {
    if (!home) continue;
    const major = jdkMajor(home);
    if (major !== null && major >= MIN_JAVA) return { home, major };
  }
  let best: Jdk | null = null;
  let entries: string[] = [];
  try {
    entries = readdirSync('/usr/lib/jvm');
  } catch {
    return null;
  }
  for (const entry of entries.sort()) {
    const home = path.join('/usr/lib/jvm', entry);
    const major = jdkMajor(home);
    if (major !== null && major >= MIN_JAVA && (!best || major > best.major)) best = { home, major };
  }
  return best;
}

interface RunAs {
  uid: number;
  gid: number;
}

function lookupUser(name: string): RunAs | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Under root: the unprivileged user to run OpenSearch as, created when missing. Else null (run as ourselves). */
function ensureRunUser(ctx: ServiceContext): RunAs | null {
  if (!isRoot()) return null;
  const existing = lookupUser(RUN_USER);
  if (existing) return existing;
  ctx.log(`creating system user '${RUN_USER}' (OpenSearch refuses to run as root)`);
  const created = spawnSync(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      RUN_USER,
    ],
    { encoding: 'utf8' },
  );
  // Exit 9: created concurrently by someone else.
  if (created.status !== 0 && created.status !== 9) {
    throw new Error(
      `useradd ${RUN_USER} failed (exit ${created.status}): ${created.stderr || created.error?.message}`,
    );
  }
  const user = lookupUser(RUN_USER);
  if (!user) throw new Error(`user '${RUN_USER}' still missing after useradd`);
  return user;
}

// ---------------------------------------------------------------------------------------------
// Provisioning.

const installName = `opensearch-${OPENSEARCH_VERSION}-knn-${KNN_VERSION}`;

export function installDir(cacheDir: string): string {
  return path.join(cacheDir, installName);
}

function markerFile(cacheDir: string): string {
  return path.join(cacheDir, `${installName}.provisioned.json`);
}

function isProvisioned(cacheDir: string): boolean {
  const home = installDir(cacheDir);
  return (
    existsSync(markerFile(cacheDir)) &&
    existsSync(path.join(home, 'bin', 'opensearch')) &&
    existsSync(path.join(home, 'plugins', 'opensearch-knn', 'plugin-descriptor.properties'))
  );
}

function localRepoPath(repo: string, a: Artifact, ext: string): string {
  return path.join(
    repo,
    ...a.groupId.split('.'),
    a.artifactId,
    a.version,
    `${a.artifactId}-${a.version}.${ext}`,
  );
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Resolves one zip through Maven into the local repository kept in the cache; returns its verified path. */
async function mavenGet(ctx: ServiceContext, repo: string, a: Artifact, timeoutMs: number): Promise<string> {
  const file = localRepoPath(repo, a, 'zip');
  const coords = `${a.groupId}:${a.artifactId}:${a.version}:zip`;
  if (!existsSync(file)) {
    ctx.log(`downloading ${coords} from Maven Central`);
    await run(
      'mvn',
      [
        '-B',
        '--no-transfer-progress',
        // Re-check artifacts whose earlier download failed instead of trusting the cached failure.
        '--update-snapshots',
        ...(a.mavenChecksums ? ['--strict-checksums'] : []),
        `-Dmaven.repo.local=${repo}`,
        `${DEPENDENCY_PLUGIN}:get`,
        `-Dartifact=${coords}`,
        '-Dtransitive=false',
      ],
      { timeoutMs, cwd: ctx.cacheDir },
    );
    if (!existsSync(file)) throw new Error(`Maven reported success but ${file} is missing`);
  }
  const actual = await sha256Of(file);
  if (actual !== a.sha256) {
    await rm(file, { force: true });
    throw new Error(
      `${coords}: SHA-256 ${actual} does not match the pinned ${a.sha256}; the file was removed`,
    );
  }
  return file;
}

function javaEnv(jdk: Jdk): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENSEARCH_JAVA_HOME: jdk.home };
  // bin/opensearch-env ignores JAVA_TOOL_OPTIONS with a warning; keep stray settings out entirely.
  for (const key of [
    'JAVA_TOOL_OPTIONS',
    '_JAVA_OPTIONS',
    'JAVA_OPTS',
    'OPENSEARCH_JAVA_OPTS',
    'OPENSEARCH_PATH_CONF',
    'OPENSEARCH_TMPDIR',
  ]) {
    delete env[key];
  }
  return env;
}

async function provision(ctx: ServiceContext): Promise<void> {
  if (isProvisioned(ctx.cacheDir)) {
    ensureRunUser(ctx);
    return;
  }
  const jdk = findJdk();
  if (!jdk) throw new Error(`no JDK ${MIN_JAVA}+ found; OpenSearch ${OPENSEARCH_VERSION} needs one`);
  const deadline = Date.now() + PROVISION_TIMEOUT_MS;
  const remaining = () => Math.max(1_000, deadline - Date.now());
  await mkdir(ctx.cacheDir, { recursive: true });

  const repo = path.join(ctx.cacheDir, 'm2');
  const distZip = await mavenGet(ctx, repo, DIST, remaining());
  const knnZip = await mavenGet(ctx, repo, KNN, remaining());

  const staging = path.join(ctx.cacheDir, `.staging-${process.pid}-${Date.now()}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    ctx.log(`extracting ${path.basename(distZip)}`);
    await run('unzip', ['-q', distZip, '-d', staging], { timeoutMs: remaining() }).catch(
      async (err: unknown) => {
        await rm(distZip, { force: true }); // download again next time
        throw err;
      },
    );
    const home = path.join(staging, `opensearch-${OPENSEARCH_VERSION}`);
    if (!existsSync(path.join(home, 'bin', 'opensearch')))
      throw new Error(`unexpected zip layout: ${home}/bin/opensearch missing`);
    for (const needed of ['lang-painless', 'transport-grpc']) {
      if (!existsSync(path.join(home, 'modules', needed))) {
        throw new Error(`the distribution lacks modules/${needed}, which opensearch-knn extends`);
      }
    }

    ctx.log(`installing opensearch-knn ${KNN_VERSION} (offline, JDK ${jdk.major})`);
    await run(path.join(home, 'bin', 'opensearch-plugin'), ['install', '--batch', `file://${knnZip}`], {
      timeoutMs: remaining(),
      env: javaEnv(jdk),
      cwd: home,
    });
    const descriptor = await readFile(
      path.join(home, 'plugins', 'opensearch-knn', 'plugin-descriptor.properties'),
      'utf8',
    );
    if (!descriptor.includes(`version=${KNN_VERSION}`))
      throw new Error('opensearch-knn installed with an unexpected version');

    // The daemon runs as another user: everything must be readable (and dirs traversable) by it.
    await run('chmod', ['-R', 'a+rX', home], { timeoutMs: remaining() });

    const final = installDir(ctx.cacheDir);
    await rm(final, { recursive: true, force: true });
    await rename(home, final);
    await writeFile(
      markerFile(ctx.cacheDir),
      `${JSON.stringify(
        {
          opensearch: `${DIST.groupId}:${DIST.artifactId}:${DIST.version}`,
          knn: `${KNN.groupId}:${KNN.artifactId}:${KNN.version}`,
          jdkAtProvision: jdk.home,
          provisionedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  ensureRunUser(ctx);
  ctx.log(`opensearch ${OPENSEARCH_VERSION} + k-NN ${KNN_VERSION} ready in ${installDir(ctx.cacheDir)}`);
}

// ---------------------------------------------------------------------------------------------
// Start.

/** The distribution's jvm.options with every cwd-relative path (cwd is the read-only install) moved into runDir. */
function rewriteJvmOptions(source: string, runDir: string): string {
  const logs = path.join(runDir, 'logs');
  return source
    .split('\n')
    .map((line) => {
      if (/^-Xms/.test(line)) return `-Xms${HEAP}`;
      if (/^-Xmx/.test(line)) return `-Xmx${HEAP}`;
      return line
        .replace(/file=logs\//g, `file=${logs}/`)
        .replace(/ErrorFile=logs\//g, `ErrorFile=${logs}/`)
        .replace(/HeapDumpPath=data\b/g, `HeapDumpPath=${path.join(runDir, 'data')}`)
        .replace(/filecount=32,filesize=64m/g, 'filecount=2,filesize=16m');
    })
    .join('\n');
}

function opensearchYml(runDir: string, httpPort: number, transportPort: number): string {
  return [
    '# Written by test/services/opensearch.ts for one test instance.',
    'cluster.name: deal-finder-test',
    'node.name: node-1',
    'discovery.type: single-node',
    'network.host: 127.0.0.1',
    `http.port: ${httpPort}`,
    `transport.port: ${transportPort}`,
    `path.data: ${path.join(runDir, 'data')}`,
    `path.logs: ${path.join(runDir, 'logs')}`,
    // Test machines have disks of any fullness: never go read-only because of watermarks.
    'cluster.routing.allocation.disk.threshold_enabled: false',
    '',
  ].join('\n');
}

async function prepareRunDir(
  home: string,
  runDir: string,
  httpPort: number,
  transportPort: number,
  user: RunAs | null,
) {
  await rm(runDir, { recursive: true, force: true });
  const config = path.join(runDir, 'config');
  await mkdir(runDir, { recursive: true });
  await cp(path.join(home, 'config'), config, { recursive: true });
  for (const dir of ['data', 'logs', 'tmp']) await mkdir(path.join(runDir, dir), { recursive: true });
  const jvmOptions = path.join(config, 'jvm.options');
  await writeFile(jvmOptions, rewriteJvmOptions(await readFile(jvmOptions, 'utf8'), runDir));
  await writeFile(path.join(config, 'opensearch.yml'), opensearchYml(runDir, httpPort, transportPort));
  if (user) {
    const chown = spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, runDir], { encoding: 'utf8' });
    if (chown.status !== 0) throw new Error(`chown ${runDir} failed: ${chown.stderr}`);
    // Every parent of runDir and of the install must be traversable by that user.
    const probe = spawnSync(
      'sh',
      [
        '-c',
        'test -x "$1" && test -r "$2" && test -w "$3"',
        'probe',
        path.join(home, 'bin', 'opensearch'),
        jvmOptions,
        runDir,
      ],
      {
        uid: user.uid,
        gid: user.gid,
      },
    );
    if (probe.status !== 0) {
      throw new Error(
        `user '${RUN_USER}' cannot reach ${home} or write ${runDir}: every parent directory needs o+x (check with namei -l ${runDir})`,
      );
    }
  }
}

async function healthy(url: string): Promise<string | null> {
  try {
    const res = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { status?: string };
    return body.status === 'green' || body.status === 'yellow' ? body.status : null;
  } catch {
    return null;
  }
}

async function hasKnnPlugin(url: string): Promise<boolean> {
  const res = await fetch(`${url}/_cat/plugins?format=json`, { signal: AbortSignal.timeout(5_000) });
  const plugins = (await res.json()) as Array<{ component?: string }>;
  return plugins.some((p) => p.component === 'opensearch-knn');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends a process group we started (used when start() fails; teardown is the core's job). */
async function killGroup(pid: number): Promise<void> {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 40 && alive(pid); i++) await sleep(250);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

class PortInUse extends Error {}

async function startOnce(
  ctx: ServiceContext,
  home: string,
  jdk: Jdk,
  user: RunAs | null,
  deadline: number,
): Promise<StartedService> {
  const [httpPort = 0, transportPort = 0] = await pickDistinctPorts(2);
  await prepareRunDir(home, ctx.runDir, httpPort, transportPort, user);
  const url = `http://127.0.0.1:${httpPort}`;
  ctx.log(
    `starting OpenSearch ${OPENSEARCH_VERSION} (JDK ${jdk.major}${user ? `, user ${RUN_USER}` : ''}) on ${url}`,
  );

  await mkdir(path.dirname(ctx.logFile), { recursive: true });
  const logStart = existsSync(ctx.logFile) ? (await stat(ctx.logFile)).size : 0;
  const out = openSync(ctx.logFile, 'a');
  const status: { exited: string | null } = { exited: null };
  let pid: number | undefined;
  try {
    const child = spawn(path.join(home, 'bin', 'opensearch'), [], {
      cwd: home,
      detached: true, // own process group: killing -pid ends the JVM (bin/opensearch execs it)
      stdio: ['ignore', out, out],
      env: {
        ...javaEnv(jdk),
        OPENSEARCH_PATH_CONF: path.join(ctx.runDir, 'config'),
        OPENSEARCH_TMPDIR: path.join(ctx.runDir, 'tmp'),
        HOME: ctx.runDir,
      },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    child.once('exit', (code, signal) => {
      status.exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
    });
    child.once('error', (err) => {
      status.exited = `could not be started: ${err.message}`;
    });
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(out);
  }
  if (pid === undefined) throw new Error(`OpenSearch could not be spawned: ${status.exited ?? 'no pid'}`);

  const newLog = () => {
    try {
      return readFileSync(ctx.logFile, 'utf8').slice(logStart);
    } catch {
      return '';
    }
  };
  try {
    const maxPolls = Math.ceil((deadline - Date.now()) / HEALTH_POLL_MS) + 1;
    for (let i = 0; i < maxPolls && Date.now() < deadline; i++) {
      if (status.exited !== null) {
        const log = newLog();
        if (/BindException|BindTransportException|BindHttpException|Address already in use/.test(log)) {
          throw new PortInUse(`port ${httpPort} or ${transportPort} was taken before OpenSearch bound it`);
        }
        throw new Error(`OpenSearch ${status.exited} before becoming healthy. Log tail:\n${tail(log)}`);
      }
      if ((await healthy(url)) !== null) {
        if (!(await hasKnnPlugin(url)))
          throw new Error('OpenSearch is up but the opensearch-knn plugin is not loaded');
        return { pids: [pid], env: { OPENSEARCH_URL: url } };
      }
      await sleep(HEALTH_POLL_MS);
    }
    throw new Error(
      `OpenSearch did not become healthy on ${url} within ${START_TIMEOUT_MS} ms. Log tail:\n${fileTail(ctx.logFile)}`,
    );
  } catch (err) {
    await killGroup(pid); // a failed start() leaves nothing running
    throw err;
  }
}

async function start(ctx: ServiceContext): Promise<StartedService> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const home = installDir(ctx.cacheDir);
  if (!isProvisioned(ctx.cacheDir))
    throw new Error(`OpenSearch is not provisioned in ${ctx.cacheDir}: run provision() first`);
  const jdk = findJdk();
  if (!jdk) throw new Error(`no JDK ${MIN_JAVA}+ found; OpenSearch ${OPENSEARCH_VERSION} needs one`);
  const user = ensureRunUser(ctx);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(ctx, home, jdk, user, deadline);
    } catch (err) {
      if (!(err instanceof PortInUse) || attempt >= MAX_START_ATTEMPTS || Date.now() >= deadline) throw err;
      ctx.log(`${err.message}; retrying with new ports (attempt ${attempt + 1}/${MAX_START_ATTEMPTS})`);
    }
  }
}

async function checkPrerequisites(): Promise<string | null> {
  if (process.platform !== 'linux')
    return `OpenSearch service is only set up for Linux (this is ${process.platform})`;
  if (!findJdk()) {
    return `no JDK ${MIN_JAVA}+ found (looked at OPENSEARCH_JAVA_HOME, JAVA_HOME, /usr/lib/jvm/*); OpenSearch ${OPENSEARCH_VERSION} needs Java ${MIN_JAVA}+`;
  }
  if (!onPath('mvn'))
    return 'mvn not found on PATH (OpenSearch and k-NN are fetched from Maven Central with Maven)';
  if (!onPath('unzip')) return 'unzip not found on PATH (apt-get install unzip)';
  if (isRoot() && !lookupUser(RUN_USER) && !onPath('useradd')) {
    return `running as root, user '${RUN_USER}' does not exist and useradd is not on PATH (OpenSearch refuses to run as root)`;
  }
  return null;
}

export const service: ServiceDefinition = {
  name: 'opensearch',
  description: `OpenSearch ${OPENSEARCH_VERSION} + k-NN ${KNN_VERSION} (lucene engine only), single node on 127.0.0.1`,
  startTimeoutMs: START_TIMEOUT_MS,
  provisionTimeoutMs: PROVISION_TIMEOUT_MS,
  checkPrerequisites,
  provision,
  start,
};
