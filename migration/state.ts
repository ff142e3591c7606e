/**
 * The runbook's state directory: state.json (params, per-phase status and facts), written
 * atomically (tmp + fsync + rename) so a kill at any point leaves the last complete version,
 * and a lock file so two processes never run phases of the same migration at once.
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
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class StateStore {
  private locked = false;

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
        throw new DealFinderError(
          'migration-refused',
          `state directory ${dir} belongs to another migration (${clash.join(', ')})`,
          {
            hint: 'use another --state directory, or repeat the original options',
            exitCode: EXIT_CODES.usage,
          },
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
    this.state.updatedAt = new Date().toISOString();
    writeFileAtomic(StateStore.file(this.dir), `${JSON.stringify(this.state, null, 2)}\n`);
  }

  /** Takes the lock (a pid file); a lock left by a killed process is taken over. */
  lock(): void {
    if (this.locked) return;
    mkdirSync(this.dir, { recursive: true });
    const file = this.path('lock.json');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
        closeSync(fd);
        this.locked = true;
        const release = () => this.unlock();
        process.once('exit', release);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readJson<{ pid: number; at: string }>(file);
        if (holder && holder.pid !== process.pid && alive(holder.pid))
          throw new DealFinderError(
            'migration-busy',
            `another migrate process (pid ${holder.pid}, since ${holder.at}) is working on ${this.dir}`,
            {
              hint: 'wait for it to finish, or stop it; a killed process leaves no live lock',
              retryable: true,
            },
          );
        rmSync(file, { force: true });
      }
    }
    throw new DealFinderError('migration-busy', `cannot take the lock ${file}`);
  }

  unlock(): void {
    if (!this.locked) return;
    const file = this.path('lock.json');
    const holder = readJson<{ pid: number }>(file);
    if (holder?.pid === process.pid) rmSync(file, { force: true });
    this.locked = false;
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
