/**
 * The runbook's state directory: state.json (params, per-phase status and facts), written
 * atomically (tmp + fsync + rename) so a kill at any point leaves the last complete version,
 * and a lock (proper-lockfile) so two processes never run phases of the same migration at once.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { DealFinderError } from '../core/errors.ts';
import { MigrationBusyError, MigrationRefusedError } from './errors.ts';
import type { BulkFormat, Engine } from './target.ts';

export const PHASES = [
  'assess',
  'setup-target',
  'export',
  'transform',
  'load',
  'verify',
  'shadow',
  'cutover',
  'rollback',
  'cleanup',
] as const;
export type Phase = (typeof PHASES)[number];

/** The phases `migrate run` goes through, in order. */
export const RUN_PHASES: readonly Phase[] = [
  'assess',
  'setup-target',
  'export',
  'transform',
  'load',
  'verify',
  'shadow',
  'cutover',
];

export interface PhaseRecord {
  status: 'running' | 'done' | 'failed' | 'rolled-back';
  startedAt: string;
  endedAt?: string;
  attempts: number;
  summary?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface MigrationParams {
  readonly source: { location: string; collection: string; tenant: string; database: string };
  readonly target: {
    url: string;
    alias: string;
    engine: Engine;
    shards: number;
    /** Replicas and refresh interval restored after the load. */
    replicas: number;
    refreshInterval: string;
    /** Bulk body encoding (absent in older state files: json). */
    bulkFormat?: BulkFormat;
    /** HNSW build parameters for the target; absent: the source collection's (Chroma's m / ef_construction). */
    hnsw?: { m?: number; efConstruction?: number };
  };
  readonly batchSize: number;
  /** Where export/transform batch files live: absent = the state directory, or s3://bucket/prefix. */
  readonly staging?: string;
  /** Refuse when the source dimension differs (null: accept what the source has). */
  readonly expectedDimension: number | null;
}

export interface CutoverFacts {
  at: string;
  index: string;
  previous: string[];
  previousFlag: string | null;
}

export interface MigrationFacts {
  dimension?: number;
  space?: 'l2' | 'cosine' | 'ip';
  count?: number;
  hnsw?: { m: number; efConstruction: number };
  index?: string;
  cutover?: CutoverFacts;
  rolledBackAt?: string;
  deleted?: string[];
}

export interface MigrationState {
  version: 1;
  id: string;
  createdAt: string;
  updatedAt: string;
  params: MigrationParams;
  phases: Partial<Record<Phase, PhaseRecord>>;
  facts: MigrationFacts;
}

export function writeFileAtomic(file: string, data: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function readJson<T>(file: string): T | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * The lock: proper-lockfile's mkdir lock on <state>/migration.lock, refreshed every second while
 * held. A killed holder stops refreshing, so its lock goes stale after LOCK_STALE_MS and the next
 * process takes it over (it waits that long at most); a live holder keeps it and the next process
 * is refused with migration-busy.
 */
export const LOCK_STALE_MS = 5_000;

function lockOptions(staleMs: number) {
  // proper-lockfile: stale ≥ 2 s, refresh every 1 s (at most stale/2); waiting one stale period
  // (plus a refresh) is enough to take over a dead holder's lock.
  const stale = Math.max(2_000, staleMs);
  return {
    realpath: false,
    stale,
    update: 1_000,
    retries: { retries: Math.ceil(stale / 1_000) + 1, factor: 1, minTimeout: 1_000, maxTimeout: 1_000 },
  };
}

export class StateStore {
  private release: (() => Promise<void>) | undefined;
  private compromised: Error | undefined;

  private constructor(
    readonly dir: string,
    public state: MigrationState,
  ) {}

  static file(dir: string): string {
    return path.join(dir, 'state.json');
  }

  static exists(dir: string): boolean {
    return existsSync(StateStore.file(dir));
  }

  static read(dir: string): StateStore | null {
    const s = readJson<MigrationState>(StateStore.file(dir));
    return s ? new StateStore(dir, s) : null;
  }

  /** Opens the state of `dir`, creating it with `params` on first use; refuses a different migration. */
  static openOrCreate(dir: string, params: MigrationParams): StateStore {
    const existing = StateStore.read(dir);
    if (existing) {
      const a = existing.state.params;
      const clash: string[] = [];
      if (a.source.location !== params.source.location) clash.push(`source ${a.source.location}`);
      if (a.source.collection !== params.source.collection) clash.push(`collection ${a.source.collection}`);
      if (a.target.url !== params.target.url) clash.push(`target ${a.target.url}`);
      if (a.target.alias !== params.target.alias) clash.push(`alias ${a.target.alias}`);
      if (clash.length)
        throw new MigrationRefusedError(
          `state directory ${dir} belongs to another migration (${clash.join(', ')})`,
          'use another --state directory, or repeat the original options',
          { category: 'usage', details: { stateDir: dir, clash } },
        );
      return existing;
    }
    const now = new Date().toISOString();
    const store = new StateStore(dir, {
      version: 1,
      id: `mig-${now.slice(0, 10).replaceAll('-', '')}-${randomUUID().slice(0, 8)}`,
      createdAt: now,
      updatedAt: now,
      params,
      phases: {},
      facts: {},
    });
    store.save();
    return store;
  }

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  save(): void {
    if (this.compromised) throw new MigrationBusyError(this.dir, this.compromised);
    this.state.updatedAt = new Date().toISOString();
    writeFileAtomic(StateStore.file(this.dir), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  private lockTarget(): string {
    return this.path('migration');
  }

  /** Takes the state directory's lock; a lock left by a killed process is taken over once stale. */
  async lock(staleMs = LOCK_STALE_MS): Promise<void> {
    if (this.release) return;
    mkdirSync(this.dir, { recursive: true });
    try {
      this.release = await lockfile.lock(this.lockTarget(), {
        ...lockOptions(staleMs),
        // Another process took the lock over (this one was stopped longer than LOCK_STALE_MS):
        // the next save refuses rather than write state beside it.
        onCompromised: (error) => {
          this.compromised = error;
        },
      });
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ELOCKED')
        throw new MigrationBusyError(this.dir, error);
      throw error;
    }
  }

  /** Releases the lock (synchronously, so it also works in `finally` blocks and exit handlers). */
  unlock(): void {
    if (!this.release) return;
    this.release = undefined;
    try {
      lockfile.unlockSync(this.lockTarget(), { realpath: false });
    } catch {
      // Already released or taken over: nothing of ours left to remove.
    }
  }

  phase(p: Phase): PhaseRecord | undefined {
    return this.state.phases[p];
  }

  isDone(p: Phase): boolean {
    return this.state.phases[p]?.status === 'done';
  }

  begin(p: Phase): void {
    const prev = this.state.phases[p];
    this.state.phases[p] = {
      status: 'running',
      startedAt: new Date().toISOString(),
      attempts: (prev?.attempts ?? 0) + 1,
    };
    this.save();
  }

  finish(p: Phase, summary: Record<string, unknown>): void {
    const rec = this.state.phases[p];
    if (!rec) throw new Error(`phase ${p} was not begun`);
    rec.status = 'done';
    rec.endedAt = new Date().toISOString();
    rec.summary = summary;
    delete rec.error;
    this.save();
  }

  fail(p: Phase, error: unknown, summary?: Record<string, unknown>): void {
    const rec = this.state.phases[p] ?? {
      status: 'failed',
      startedAt: new Date().toISOString(),
      attempts: 1,
    };
    rec.status = 'failed';
    rec.endedAt = new Date().toISOString();
    if (summary) rec.summary = summary;
    rec.error = {
      code: error instanceof DealFinderError ? error.code : 'internal',
      message: error instanceof Error ? error.message : String(error),
    };
    this.state.phases[p] = rec;
    this.save();
  }
}
