import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  Deal,
  EnrichedDeal,
  Feature,
  PriceDaily,
  PriceTrend,
  Product,
  QuarantineRecord,
  RawDeal,
  type RecordDef,
} from '../schemas/index.ts';
import type { Clock } from './clock.ts';
import { DateRangeTooLongError, InvalidDateError } from './errors.ts';

export interface TableDef {
  readonly name: string;
  readonly record: RecordDef;
  /** Folder under the lake root. */
  readonly path: string;
  /** Hive-partitioned by dt=YYYY-MM-DD. */
  readonly partitioned: boolean;
  /** Second partition level written by each step separately (quarantine: step=<job>). */
  readonly subpartition?: string;
}

/** Every table of the lake. Job inputs and outputs, query views and Glue tables all come from here. */
export const TABLES = {
  raw_deals: { name: 'raw_deals', record: RawDeal, path: 'raw/deals', partitioned: true },
  products: { name: 'products', record: Product, path: 'catalog/products', partitioned: false },
  deals: { name: 'deals', record: Deal, path: 'deals', partitioned: true },
  quarantine: {
    name: 'quarantine',
    record: QuarantineRecord,
    path: 'quarantine',
    partitioned: true,
    subpartition: 'step',
  },
  enriched_deals: { name: 'enriched_deals', record: EnrichedDeal, path: 'enriched_deals', partitioned: true },
  price_daily: { name: 'price_daily', record: PriceDaily, path: 'price_daily', partitioned: true },
  price_trends: { name: 'price_trends', record: PriceTrend, path: 'price_trends', partitioned: true },
  features: { name: 'features', record: Feature, path: 'features', partitioned: true },
} as const satisfies Record<string, TableDef>;
export type TableName = keyof typeof TABLES;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function assertDate(date: string): string {
  if (
    !DATE_RE.test(date) ||
    Number.isNaN(Date.parse(`${date}T00:00:00Z`)) ||
    new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date
  ) {
    throw new InvalidDateError(date);
  }
  return date;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${assertDate(date)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The day before today (UTC) on the given clock: the default nightly date. */
export function yesterdayUtc(clock: Clock): string {
  return addDays(clock.todayUtc(), -1);
}

/** The longest date range processed in one go: 10 years of days. */
export const MAX_RANGE_DAYS = 3660;

/** Every date from `from` to `to`, both included (empty when `to` is before `from`). */
export function dateRange(from: string, to: string): string[] {
  const days = (Date.parse(assertDate(to)) - Date.parse(assertDate(from))) / 86_400_000 + 1;
  if (days > MAX_RANGE_DAYS) throw new DateRangeTooLongError(from, to, MAX_RANGE_DAYS);
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** `s3://bucket/prefix` (or any `scheme://…` URI) rather than a local folder. */
export function isUriRoot(root: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(root);
}

/**
 * Joins path segments onto a lake root. Local roots use the platform's path.join; URI roots
 * (s3://bucket/prefix) keep their scheme and authority and join with "/" (path.join would turn
 * `s3://b/k` into `s3:/b/k`).
 */
export function joinLakePath(root: string, ...parts: string[]): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/i.exec(root);
  if (!m) return path.join(root, ...parts);
  const rest = path.posix.join(m[2]!, ...parts);
  return `${m[1]}${rest === '.' ? '' : rest.replace(/\/$/, '')}`;
}

/** Where a URI lake keeps its run ledger when none is given: a local folder named after the lake. */
export function defaultMetaRoot(root: string, cwd = process.cwd()): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(root);
  if (!m) return root;
  const safe = `${m[1]}/${m[2]}`.split('/').filter((s) => s && s !== '.' && s !== '..');
  return path.resolve(cwd, '.dealfinder', 'meta', ...safe);
}

export interface LakeOptions {
  /**
   * Local folder of the lake's metadata (`_meta`: the run ledger). Default: the root itself for a
   * local lake; for an s3:// lake, `./.dealfinder/meta/s3/<bucket>/<prefix>` (config `lake.metaRoot`).
   */
  readonly metaRoot?: string | undefined;
}

/**
 * The lake. A local folder (default) or an s3:// root. Partitions of a local lake are replaced
 * atomically: outputs are written to _staging/<run>/..., the old partition is moved to
 * _trash/<run>/..., the new one renamed in, and the trash removed. A crash between the renames is
 * repaired by recover(). On an s3:// root, paths are URIs (for engines that read and write S3:
 * DuckDB with httpfs, Spark on EMR), listing here finds nothing, and commit is refused (the EMR
 * runner writes its partitions in place with dynamic partition overwrite).
 */
export class Lake {
  readonly metaRoot: string;
  readonly remote: boolean;

  constructor(
    readonly root: string,
    options: LakeOptions = {},
  ) {
    this.remote = isUriRoot(root);
    this.metaRoot = options.metaRoot ?? (this.remote ? defaultMetaRoot(root) : root);
  }

  tableDir(table: TableName): string {
    return joinLakePath(this.root, TABLES[table].path);
  }

  /** Path of a partition relative to the root ("deals/dt=2026-01-02", "quarantine/dt=…/step=cleanup"). */
  partitionPath(table: TableName, date?: string, sub?: string): string {
    const def: TableDef = TABLES[table];
    const parts: string[] = [def.path];
    if (def.partitioned) {
      if (!date) throw new Error(`table ${table} is partitioned: a date is required`);
      parts.push(`dt=${assertDate(date)}`);
    }
    if (def.subpartition && sub) parts.push(`${def.subpartition}=${sub}`);
    return parts.join('/');
  }

  partitionDir(table: TableName, date?: string, sub?: string): string {
    return joinLakePath(this.root, ...this.partitionPath(table, date, sub).split('/'));
  }

  stagingDir(runId: string, table: TableName, date?: string, sub?: string): string {
    return joinLakePath(this.root, '_staging', runId, ...this.partitionPath(table, date, sub).split('/'));
  }

  metaDir(...parts: string[]): string {
    return path.join(this.metaRoot, '_meta', ...parts);
  }

  /** Parquet files of one partition (empty when the partition does not exist). */
  partitionFiles(table: TableName, date?: string, sub?: string): string[] {
    if (this.remote) return []; // not listable from here: URI lakes are read by the engines
    return listParquet(this.partitionDir(table, date, sub));
  }

  /** Dates that have a partition of `table`, ascending. */
  partitionDates(table: TableName): string[] {
    const dir = this.tableDir(table);
    if (this.remote || !existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => n.startsWith('dt='))
      .map((n) => n.slice(3))
      .filter((d) => DATE_RE.test(d))
      .sort();
  }

  /** Atomically replaces the partition at `finalDir` with the folder `stagingDir`. */
  commit(runId: string, stagingDir: string, finalDir: string): void {
    if (this.remote)
      throw new Error(
        `cannot commit ${finalDir}: partitions of an s3:// lake are written in place (no atomic rename on S3)`,
      );
    mkdirSync(path.dirname(finalDir), { recursive: true });
    let trashed: string | undefined;
    if (existsSync(finalDir)) {
      trashed = path.join(this.root, '_trash', runId, path.relative(this.root, finalDir));
      mkdirSync(path.dirname(trashed), { recursive: true });
      rmSync(trashed, { recursive: true, force: true });
      renameSync(finalDir, trashed);
    }
    crashPoint('commit-between-renames');
    renameSync(stagingDir, finalDir);
    if (trashed) rmSync(trashed, { recursive: true, force: true });
  }

  /** Removes the run's (now empty) staging and trash folders after it succeeded. */
  finish(runId: string): void {
    if (this.remote) return;
    for (const area of ['_staging', '_trash']) {
      rmSync(path.join(this.root, area, runId), { recursive: true, force: true });
      const dir = path.join(this.root, area);
      if (existsSync(dir) && readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Repairs what a crash can leave behind: a partition moved to _trash whose replacement never
   * arrived is put back (so readers keep the last complete version), and staging folders of
   * runs that are not `activeRunId` are removed.
   */
  recover(activeRunId?: string): { restored: string[]; cleaned: string[] } {
    const restored: string[] = [];
    const cleaned: string[] = [];
    if (this.remote) return { restored, cleaned };
    const trashRoot = path.join(this.root, '_trash');
    for (const run of safeReaddir(trashRoot)) {
      for (const rel of leafPartitions(path.join(trashRoot, run))) {
        const final = path.join(this.root, rel);
        const trashed = path.join(trashRoot, run, rel);
        if (!existsSync(final)) {
          mkdirSync(path.dirname(final), { recursive: true });
          renameSync(trashed, final);
          restored.push(rel);
        }
      }
      rmSync(path.join(trashRoot, run), { recursive: true, force: true });
    }
    if (existsSync(trashRoot) && readdirSync(trashRoot).length === 0)
      rmSync(trashRoot, { recursive: true, force: true });
    const stagingRoot = path.join(this.root, '_staging');
    for (const run of safeReaddir(stagingRoot)) {
      if (run === activeRunId) continue;
      rmSync(path.join(stagingRoot, run), { recursive: true, force: true });
      cleaned.push(run);
    }
    return { restored, cleaned };
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Relative paths (from `base`) of the folders below it that have no sub-folders (whole partitions). */
function leafPartitions(base: string, rel = ''): string[] {
  const dir = path.join(base, rel);
  const children = safeReaddir(dir).filter((n) => statSync(path.join(dir, n)).isDirectory());
  if (rel && children.length === 0) return [rel];
  return children.flatMap((c) => leafPartitions(base, path.join(rel, c)));
}

export function listParquet(dir: string): string[] {
  return safeReaddir(dir)
    .filter((n) => n.endsWith('.parquet'))
    .sort()
    .map((n) => path.join(dir, n));
}

/**
 * Test hook: DEALFINDER_CRASH_AT=<point> makes the process SIGKILL itself at that point, so
 * crash-recovery tests hit the exact window they mean to (never set outside tests).
 */
export function crashPoint(point: string): void {
  const wanted = process.env.DEALFINDER_CRASH_AT;
  if (wanted && wanted === point) process.kill(process.pid, 'SIGKILL');
}
