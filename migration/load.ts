/**
 * Phase 5: bulk-load the transformed batches. Bounded concurrency (a slot must be free before the
 * next file is even read: backpressure), AIMD on pressure (429/5xx halve the in-flight limit,
 * clean batches raise it again), whole-request and per-item retries with backoff, permanent
 * per-item failures recorded. Documents keep their source ids, so a rerun overwrites.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DealFinderError, isRetryableStatus } from '../core/errors.ts';
import { crashPoint } from '../core/lake.ts';
import { type RetryPolicy, retry } from '../core/retry.ts';
import { ProductVector } from '../schemas/index.ts';
import { fmt, gateFailed, type PhaseContext, requireDone, targetIndexOf, targetOf } from './context.ts';
import { documentIdProblem } from './errors.ts';
import { batchName } from './export.ts';
import { BatchFiles } from './parquet.ts';
import type { VectorRow } from './records.ts';
import { SmileWriter, smileBulkBody } from './smile.ts';
import { Staging } from './staging.ts';
import { readJson, writeFileAtomic } from './state.ts';
import type { BulkFormat, OpenSearch } from './target.ts';
import { readTransformManifest } from './transform.ts';

export interface ItemFailure {
  id: string;
  status: number;
  type: string;
  reason: string;
}

export interface LoadCheckpoint {
  index: string;
  batches: Record<string, { sha256: string; indexed: number; failed: number }>;
}

/** A float32 vector as JSON, exactly: shortest f64 text of each value, and -0 kept as "-0" (join would print "0"). */
export function vectorJson(v: Float32Array): string {
  for (let i = 0; i < v.length; i++) {
    if (v[i] === 0 && 1 / (v[i] as number) < 0)
      return `[${Array.from(v, (x) => (x === 0 && 1 / x < 0 ? '-0' : String(x))).join(',')}]`;
  }
  return `[${Array.prototype.join.call(v, ',')}]`;
}

/**
 * The document's fields in ProductVector order, each with its JSON text writer: vectors exactly
 * (vectorJson), everything else as JSON.stringify prints it (the prices here are finite).
 */
const DOC_FIELDS = Object.entries(ProductVector.fields).map(([name, spec]) => ({
  name,
  prefix: JSON.stringify(name),
  json:
    spec.kind === 'vector'
      ? (v: unknown) => vectorJson(v as Float32Array)
      : (v: unknown) => JSON.stringify(v),
}));

/** One document as the bulk API wants it (embedding values printed exactly: f32 → shortest f64 text). */
export function docJson(d: VectorRow): string {
  const row = d as Readonly<Record<string, unknown>>;
  let out = '{';
  for (let i = 0; i < DOC_FIELDS.length; i++) {
    const f = DOC_FIELDS[i] as (typeof DOC_FIELDS)[number];
    out += `${i === 0 ? '' : ','}${f.prefix}:${f.json(row[f.name])}`;
  }
  return `${out}}`;
}

export interface BulkStats {
  requests: number;
  itemRetries: number;
  pressure: number;
}

/** Items the bulk API answered with 429/5xx: sent again alone, with backoff (retryable). */
class ItemsPushedBack extends DealFinderError<{ readonly items: readonly ItemFailure[] }> {
  constructor(items: readonly ItemFailure[]) {
    super('service-unavailable', `${items.length} bulk item(s) pushed back (429/5xx)`, {
      retryable: true,
      hint: 'OpenSearch is overloaded; lower --concurrency',
      details: { items },
    });
  }
}

/**
 * Sends docs with the bulk API until every item is indexed or permanently failed. The whole
 * request is retried by the client on 429/5xx/network errors; items rejected with 429/5xx are
 * re-sent alone with backoff (the policy's retries); other item errors (mapping, parsing) and
 * ids OpenSearch would refuse (> 512 bytes, which fail the whole request) are returned as failures.
 */
export async function bulkIndex(
  os: OpenSearch,
  index: string,
  docs: readonly VectorRow[],
  policy: RetryPolicy,
  stats: BulkStats,
  format: BulkFormat = 'json',
  writer?: SmileWriter,
): Promise<{ indexed: number; failed: ItemFailure[] }> {
  let indexed = 0;
  const failed: ItemFailure[] = [];
  const sendable: VectorRow[] = [];
  for (const d of docs) {
    const problem = documentIdProblem(d.id);
    if (problem) failed.push({ id: d.id, status: 400, type: 'id_too_long', reason: problem });
    else sendable.push(d);
  }
  let pending: readonly VectorRow[] = sendable;
  const action = (id: string) =>
    `{"index":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}\n`;
  const send = async (): Promise<void> => {
    if (pending.length === 0) return;
    const body =
      format === 'smile'
        ? smileBulkBody(index, pending, writer)
        : pending.map((d) => `${action(d.id)}${docJson(d)}\n`).join('');
    const before = os.retries;
    stats.requests++;
    const res = await os.request<{
      errors: boolean;
      items: { index: { _id: string; status: number; error?: { type: string; reason: string } } }[];
    }>('POST', '/_bulk', body, {
      contentType: format === 'smile' ? 'application/smile' : 'application/x-ndjson',
    });
    if (os.retries > before) stats.pressure++;
    if (!res.body.errors) {
      indexed += pending.length;
      pending = [];
      return;
    }
    const again: VectorRow[] = [];
    const pushedBack: ItemFailure[] = [];
    res.body.items.forEach((item, i) => {
      const r = item.index;
      const doc = pending[i];
      if (!doc) return;
      const failure = {
        id: doc.id,
        status: r.status,
        type: r.error?.type ?? 'unknown',
        reason: (r.error?.reason ?? '').slice(0, 500),
      };
      if (r.status < 300) indexed++;
      else if (isRetryableStatus(r.status)) {
        again.push(doc);
        pushedBack.push(failure);
      } else failed.push(failure);
    });
    pending = again;
    if (again.length) throw new ItemsPushedBack(pushedBack);
  };
  try {
    await retry(send, policy, {
      shouldRetry: (error) => error instanceof ItemsPushedBack,
      onRetry: (error) => {
        if (!(error instanceof ItemsPushedBack)) return;
        stats.itemRetries += error.details.items.length;
        stats.pressure++;
      },
    });
  } catch (error) {
    // Retries used up: what is still pushed back failed permanently.
    if (!(error instanceof ItemsPushedBack)) throw error;
    failed.push(...error.details.items);
  }
  return { indexed, failed };
}

export async function loadPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'setup-target', 'load');
  requireDone(ctx, 'transform', 'load');
  const { params } = ctx.store.state;
  const index = targetIndexOf(ctx, 'load');
  const tm = readTransformManifest(ctx.store.dir);
  if (!tm?.complete) throw gateFailed('load', 'the transform is not complete');
  const os = targetOf(ctx);
  const cpFile = ctx.store.path('load', 'checkpoint.json');
  let cp = readJson<LoadCheckpoint>(cpFile);
  if (!cp || cp.index !== index) cp = { index, batches: {} };
  const checkpoint = cp;
  await os.putSettings(index, { refresh_interval: '-1', number_of_replicas: 0 });
  const todo = [];
  let already = 0;
  const total = tm.batches.reduce((s, b) => s + b.rows, 0);
  for (const b of tm.batches) {
    const prior = checkpoint.batches[String(b.batch)];
    if (prior && prior.sha256 === b.sha256) already += prior.indexed + prior.failed;
    else todo.push(b);
  }
  if (already)
    ctx.print(`Resuming load into ${index}: ${fmt(already)} document(s) of ${fmt(total)} already loaded`);
  const files = await BatchFiles.open();
  const staging = new Staging(ctx);
  const format = params.target.bulkFormat ?? 'json';
  const writers: SmileWriter[] = [];
  const stats: BulkStats = { requests: 0, itemRetries: 0, pressure: 0 };
  const max = Math.max(1, ctx.opts.concurrency);
  let limit = max;
  let clean = 0;
  let loaded = already;
  let sent = 0;
  let failedTotal = Object.values(checkpoint.batches).reduce((s, b) => s + b.failed, 0);
  const inFlight = new Set<Promise<void>>();
  let firstError: unknown = null;
  const started = Date.now();
  const bar = ctx.progress('load', total, 'docs');
  bar.update(loaded);
  try {
    for (const b of todo) {
      while (inFlight.size >= limit && !firstError) await Promise.race(inFlight);
      if (firstError) break;
      const file = await staging.fetch('transformed', b);
      const docs = await files.readVectors(file);
      staging.release(file);
      const writer = writers.pop() ?? new SmileWriter();
      const task = (async () => {
        const pressureBefore = stats.pressure;
        const r = await bulkIndex(os, index, docs, ctx.opts.retry, stats, format, writer);
        writers.push(writer);
        crashPoint(`load:bulk-sent:${b.batch}`);
        const failuresFile = ctx.store.path('load', 'failures', `${batchName(b.batch)}.jsonl`);
        if (r.failed.length || existsSync(failuresFile))
          writeFileAtomic(failuresFile, r.failed.map((f) => `${JSON.stringify(f)}\n`).join(''));
        checkpoint.batches[String(b.batch)] = {
          sha256: b.sha256,
          indexed: r.indexed,
          failed: r.failed.length,
        };
        writeFileAtomic(cpFile, `${JSON.stringify(checkpoint)}\n`);
        crashPoint(`load:checkpoint:${b.batch}`);
        loaded += r.indexed + r.failed.length;
        sent += r.indexed;
        failedTotal += r.failed.length;
        bar.update(loaded);
        if (stats.pressure > pressureBefore) {
          limit = Math.max(1, Math.floor(limit / 2));
          clean = 0;
        } else if (++clean >= 4 && limit < max) {
          limit++;
          clean = 0;
        }
      })().catch((error) => {
        firstError ??= error;
      });
      const tracked: Promise<void> = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    await Promise.all(inFlight);
    if (firstError) throw firstError;
  } finally {
    bar.stop();
    files.close();
  }
  const bulkSeconds = (Date.now() - started) / 1000;
  await os.putSettings(index, {
    refresh_interval: params.target.refreshInterval,
    number_of_replicas: params.target.replicas,
  });
  await os.refresh(index);
  const count = await os.count(index);
  const seconds = (Date.now() - started) / 1000;
  const summary = {
    index,
    format,
    documents: total,
    loadedNow: sent,
    resumedWith: already,
    failed: failedTotal,
    count,
    requests: stats.requests,
    retries: os.retries,
    itemRetries: stats.itemRetries,
    bulkSeconds,
    seconds,
    docsPerSecond: Math.round(sent / Math.max(seconds, 0.001)),
  };
  ctx.print(
    `Loaded ${fmt(sent)} document(s) into ${index} in ${seconds.toFixed(1)} s (${fmt(summary.docsPerSecond)} docs/s; ${stats.requests} ${format} bulk request(s), ${os.retries} request retr(y/ies), ${stats.itemRetries} item retr(y/ies))${already ? `, ${fmt(already)} were loaded before the resume` : ''}`,
  );
  ctx.print(
    `  restored refresh_interval=${params.target.refreshInterval}, number_of_replicas=${params.target.replicas}; index count ${fmt(count)}`,
  );
  if (failedTotal) {
    ctx.print(
      `  ${fmt(failedTotal)} document(s) failed permanently: ${path.join(ctx.store.dir, 'load', 'failures')}/*.jsonl`,
    );
    throw gateFailed('load', `${failedTotal} document(s) were rejected by OpenSearch`, summary);
  }
  return summary;
}
