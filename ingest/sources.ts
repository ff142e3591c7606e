import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { DealFinderError } from '../core/errors.ts';
import { parseJsonRecords } from '../core/json-records.ts';
import type { Lake } from '../core/lake.ts';
import { parseFeed, readFeedSource } from '../core/rss.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { RawDeal, type RawDealRecord, validate } from '../schemas/index.ts';
import { landRawDeals } from './raw-zone.ts';

/** What a source holds, by its name or (for files without a telling extension) its first bytes. */
export type SourceKind = 'feed' | 'json' | 'parquet';

export interface IngestOptions {
  readonly lake: Lake;
  readonly config: Config;
  readonly clock: Clock;
  /** Feed name stamped on feed entries (default: the file name, or the URL's host and path). */
  readonly feed?: string | undefined;
  /** Category of the feed page (category_hint of feed entries). */
  readonly category?: string | undefined;
  /** When feed entries were seen (default: now on the clock). Their day is the partition they land in. */
  readonly seenAt?: Date | undefined;
  readonly fetch?: typeof fetch;
}

export interface LandedFile {
  readonly date: string;
  readonly file: string;
  readonly rows: number;
}

export interface IngestReport {
  readonly source: string;
  readonly kind: SourceKind | null;
  readonly status: 'landed' | 'failed';
  /** Records read from the source. */
  readonly entries: number;
  readonly landed: readonly LandedFile[];
  /** Records that do not fit the raw-deal shape: kept aside, with their reasons, in `rejectedFile`. */
  readonly rejected: number;
  readonly rejectedFile?: string;
  readonly error?: string;
}

/** A source that could not be ingested at all (unreadable, unknown type, not a feed). */
export class IngestError extends DealFinderError {
  constructor(source: string, reason: string, cause?: unknown) {
    super('ingest-failed', `${source}: ${reason}`, {
      hint: 'ingest takes RSS/Atom feeds (file or http(s) URL), JSON lines / JSON arrays of raw deals, and raw-deal Parquet',
      cause,
      details: { source, reason },
    });
  }
}

/**
 * Lands each source's records in the raw zone (`raw/deals/dt=<seen day>/ingest-<name>-<hash>.parquet`)
 * for the nightly to process. One failing source never stops the others. Re-ingesting identical
 * content replaces its file (the name carries the content hash), so a re-run is safe.
 */
export async function ingestSources(
  conn: DuckDBConnection,
  sources: readonly string[],
  options: IngestOptions,
): Promise<IngestReport[]> {
  const reports: IngestReport[] = [];
  for (const source of sources) {
    try {
      reports.push(await ingestOne(conn, source, options));
    } catch (error) {
      reports.push({
        source,
        kind: null,
        status: 'failed',
        entries: 0,
        landed: [],
        rejected: 0,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return reports;
}

async function ingestOne(conn: DuckDBConnection, source: string, o: IngestOptions): Promise<IngestReport> {
  if (o.lake.remote) throw new IngestError(source, `ingest writes a local lake; ${o.lake.root} is remote`);
  const isUrl = /^https?:\/\//i.test(source);
  const kind = isUrl ? 'feed' : kindOfFile(source);
  let records: unknown[];
  let content: Buffer;
  if (kind === 'feed') {
    const res = await readFeedSource(source, {
      timeoutMs: o.config.streaming.scanner.timeoutMs,
      userAgent: o.config.streaming.scanner.userAgent,
      fetch: o.fetch,
    });
    if (res.notModified) throw new IngestError(source, 'the server answered 304 to an unconditional request');
    content = Buffer.from(res.body);
    const seen = o.seenAt ?? o.clock.now();
    records = parseFeed(res.body, o.feed ?? feedNameOf(source), seen, o.category ?? null).entries;
  } else if (kind === 'json') {
    content = readSource(source);
    records = jsonRecordsOf(source, content.toString('utf8'));
  } else {
    content = readSource(source);
    records = await readParquetRecords(conn, source);
  }

  const accepted: RawDealRecord[] = [];
  const rejected: { reason: string; record: unknown }[] = [];
  for (const r of records) {
    const v = validate(RawDeal, r);
    if (v.ok) accepted.push(v.value);
    else rejected.push({ reason: v.issues.map((i) => `${i.path}: ${i.message}`).join('; '), record: r });
  }

  const name = `ingest-${slug(source)}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
  const byDay = new Map<string, RawDealRecord[]>();
  for (const r of accepted) {
    const day = r.seen_at.slice(0, 10);
    const rows = byDay.get(day);
    if (rows) rows.push(r);
    else byDay.set(day, [r]);
  }
  const landed: LandedFile[] = [];
  for (const [date, rows] of [...byDay].sort(([a], [b]) => a.localeCompare(b)))
    landed.push({ date, file: await landRawDeals(conn, o.lake, date, name, rows), rows: rows.length });

  let rejectedFile: string | undefined;
  if (rejected.length > 0) {
    // Outside raw/deals, so the nightly never reads it; nothing of the source is lost.
    const dir = path.join(o.lake.root, 'raw', '_rejected');
    mkdirSync(dir, { recursive: true });
    rejectedFile = path.join(dir, `${name}.jsonl`);
    writeFileSync(`${rejectedFile}.tmp`, `${rejected.map((r) => JSON.stringify(r)).join('\n')}\n`);
    renameSync(`${rejectedFile}.tmp`, rejectedFile);
  }
  return {
    source,
    kind,
    status: 'landed',
    entries: records.length,
    landed,
    rejected: rejected.length,
    ...(rejectedFile ? { rejectedFile } : {}),
  };
}

/** The source's bytes (the first `maxBytes` only, when given: enough to tell its kind). */
function readSource(source: string, maxBytes?: number): Buffer {
  try {
    if (maxBytes === undefined) return readFileSync(source);
    const fd = openSync(source, 'r');
    try {
      const head = Buffer.alloc(maxBytes);
      return head.subarray(0, readSync(fd, head, 0, maxBytes, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new IngestError(
      source,
      `cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`,
      error,
    );
  }
}

/** By extension, else by the first bytes: `<` a feed, `{`/`[` JSON, `PAR1` Parquet. */
export function kindOfFile(file: string): SourceKind {
  const ext = path.extname(file).toLowerCase();
  if (['.xml', '.rss', '.atom'].includes(ext)) return 'feed';
  if (['.json', '.jsonl', '.ndjson'].includes(ext)) return 'json';
  if (ext === '.parquet') return 'parquet';
  const head = readSource(file, 512);
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  const text = head.toString('utf8').trimStart();
  if (text.startsWith('<')) return 'feed';
  if (text.startsWith('{') || text.startsWith('[')) return 'json';
  throw new IngestError(file, 'unknown type: not a feed, JSON or Parquet (by extension or content)');
}

function jsonRecordsOf(source: string, text: string): unknown[] {
  const parsed = parseJsonRecords(text);
  if (!parsed.ok) throw new IngestError(source, parsed.error);
  return parsed.records;
}

/** Raw-deal Parquet (the raw zone's own shape): every RawDeal column must be there. */
async function readParquetRecords(conn: DuckDBConnection, file: string): Promise<unknown[]> {
  const src = `read_parquet(${sqlString(file)})`;
  let columns: string[];
  try {
    columns = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`))
      .getRowObjectsJson()
      .map((r) => String(r.column_name));
  } catch (error) {
    throw new IngestError(file, `not readable Parquet: ${(error as Error).message.split('\n')[0]}`, error);
  }
  const missing = Object.keys(RawDeal.fields).filter((f) => !columns.includes(f));
  if (missing.length > 0) throw new IngestError(file, `missing raw-deal column(s): ${missing.join(', ')}`);
  const select = Object.entries(RawDeal.fields).map(([name, spec]) => {
    const col = `"${name}"`;
    // Timestamps as the ISO strings the records carry.
    return spec.kind === 'timestamp'
      ? `strftime(CAST(${col} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ') AS ${col}`
      : `${col}`;
  });
  return (await conn.runAndReadAll(`SELECT ${select.join(', ')} FROM ${src}`)).getRowObjectsJson();
}

function feedNameOf(source: string): string {
  if (/^https?:\/\//i.test(source)) {
    const u = new URL(source);
    return `${u.host}${u.pathname}`.replace(/\/+$/, '');
  }
  return path.basename(source).replace(/\.[^.]+$/, '');
}

const slug = (source: string) =>
  feedNameOf(source)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 60);
