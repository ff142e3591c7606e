/**
 * Where the real-services harness keeps its files.
 *
 *   <cache>/services/<name>/   persistent installs (downloads survive runs)
 *   <cache>/run/<name>/        one instance: state.json, service.log (+ service.prev.log), instance/ (ctx.runDir)
 *   <cache>/locks/<name>.lock  cross-process lock (proper-lockfile) around provision/start/stop
 *
 * <cache> is $DEALFINDER_CACHE_DIR when set, else <repo>/.cache (git-ignored).
 * Every function reads the environment on each call, so tests may point the
 * harness at a scratch cache by setting DEALFINDER_CACHE_DIR.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (two levels above test/services). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cacheRoot(): string {
  const fromEnv = process.env.DEALFINDER_CACHE_DIR;
  return path.resolve(fromEnv && fromEnv.trim() !== '' ? fromEnv : path.join(repoRoot, '.cache'));
}

/** Persistent install folder of one service (ServiceContext.cacheDir). */
export function serviceCacheDir(name: string): string {
  return path.join(cacheRoot(), 'services', name);
}

/** Instance folder of one service: state.json, logs, and the instance/ scratch dir. */
export function serviceRunRoot(name: string): string {
  return path.join(cacheRoot(), 'run', name);
}

/** ServiceContext.runDir: wiped before each start. */
export function serviceInstanceDir(name: string): string {
  return path.join(serviceRunRoot(name), 'instance');
}

/** ServiceContext.logFile. The previous instance's log is kept as service.prev.log. */
export function serviceLogFile(name: string): string {
  return path.join(serviceRunRoot(name), 'service.log');
}

export function servicePrevLogFile(name: string): string {
  return path.join(serviceRunRoot(name), 'service.prev.log');
}

/** JSON record of the running instance: pids, env, owner (see harness.ts ServiceState). */
export function serviceStateFile(name: string): string {
  return path.join(serviceRunRoot(name), 'state.json');
}

/** Path handed to proper-lockfile (with realpath: false); the lock itself is `${this}.lock`. */
export function serviceLockTarget(name: string): string {
  return path.join(cacheRoot(), 'locks', name);
}

/**
 * Short stable id of the cache root. It is part of the environment marker every
 * service process inherits, so reaping never touches another checkout's services.
 */
export function cacheRootId(): string {
  return createHash('sha1').update(cacheRoot()).digest('hex').slice(0, 12);
}

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
