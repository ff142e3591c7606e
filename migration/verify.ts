/** Phase 6 (verify) and 7 (shadow): counts, field-by-field sample, recall@k against the source. */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  fmt,
  gateFailed,
  type PhaseContext,
  requireDone,
  rng,
  sourceOf,
  targetIndexOf,
  targetOf,
} from './context.ts';
import { readExportManifest } from './export.ts';
import { BatchFiles } from './parquet.ts';
import { distance, parsePrice, sameBits } from './records.ts';
import type { ChromaSource, SpaceName } from './source/index.ts';
import { Staging } from './staging.ts';
import { writeFileAtomic } from './state.ts';
import type { OpenSearch } from './target.ts';
import { readTransformManifest } from './transform.ts';

interface OsHit {
  _id: string;
  _source: { embedding: number[] };
}

/** Top-k from OpenSearch (approximate k-NN) with the stored vectors. */
export async function osKnn(
  os: OpenSearch,
  index: string,
  q: Float32Array,
  k: number,
  efSearch: number,
): Promise<{ ids: string[]; vectors: Float32Array[] }> {
  const r = await os.request<{ hits: { hits: OsHit[] } }>('POST', `/${encodeURIComponent(index)}/_search`, {
    size: k,
    _source: ['embedding'],
    query: {
      knn: {
        embedding: { vector: Array.from(q), k, method_parameters: { ef_search: Math.max(efSearch, k) } },
      },
    },
  });
  const hits = r.body.hits.hits;
  return { ids: hits.map((h) => h._id), vectors: hits.map((h) => Float32Array.from(h._source.embedding)) };
}

export interface Comparison {
  readonly chromaIds: string[];
  readonly osIds: string[];
  /** Share of OpenSearch results at least as near as Chroma's k-th (ties count as hits). */
  readonly recall: number;
  /** Plain id overlap |A∩B|/k. */
  readonly idRecall: number;
  readonly chromaMs: number;
  readonly osMs: number;
}

/**
 * Compares OpenSearch's top-k with Chroma's (the reference) for query q. Recall is tie-aware: an
 * OpenSearch result counts when its distance to q is ≤ the distance of Chroma's k-th neighbour
 * (collections often hold identical vectors, whose order is arbitrary in either store).
 */
export function compareTopK(
  space: SpaceName,
  q: Float32Array,
  k: number,
  chroma: { ids: string[]; distances: number[] },
  os: { ids: string[]; vectors: Float32Array[] },
): { recall: number; idRecall: number; missing: string[]; extra: string[] } {
  const kth = chroma.distances.length ? Math.max(...chroma.distances) : Number.POSITIVE_INFINITY;
  const tol = Math.abs(kth) * 1e-4 + 1e-5;
  const want = Math.min(k, chroma.ids.length);
  let hits = 0;
  for (const v of os.vectors) if (distance(space, q, v) <= kth + tol) hits++;
  const inChroma = new Set(chroma.ids);
  const inOs = new Set(os.ids);
  const overlap = os.ids.filter((id) => inChroma.has(id)).length;
  return {
    recall: want ? Math.min(hits, want) / want : 1,
    idRecall: want ? overlap / want : 1,
    missing: chroma.ids.filter((id) => !inOs.has(id)),
    extra: os.ids.filter((id) => !inChroma.has(id)),
  };
}

/** Appends one difference between the stores to a JSON-lines log, with a timestamp (one write: O_APPEND keeps lines whole). */
export async function appendDifference(file: string, entry: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`);
}

/** Runs one query against both stores and compares the top-k (compareTopK), logging differences. */
export class ShadowComparator {
  constructor(
    private readonly o: {
      source: ChromaSource;
      collection: string;
      os: OpenSearch;
      index: string;
      space: SpaceName;
      k: number;
      efSearch: number;
      /** Differences are appended here as JSON lines. */
      logFile?: string;
    },
  ) {}

  async compare(q: Float32Array): Promise<Comparison> {
    const { k } = this.o;
    let t = performance.now();
    const c = await this.o.source.query(this.o.collection, [q], k);
    const chromaMs = performance.now() - t;
    t = performance.now();
    const s = await osKnn(this.o.os, this.o.index, q, k, this.o.efSearch);
    const osMs = performance.now() - t;
    const chroma = { ids: c.ids[0] ?? [], distances: c.distances[0] ?? [] };
    const cmp = compareTopK(this.o.space, q, k, chroma, s);
    const result: Comparison = {
      chromaIds: chroma.ids,
      osIds: s.ids,
      recall: cmp.recall,
      idRecall: cmp.idRecall,
      chromaMs,
      osMs,
    };
    if (this.o.logFile && (result.recall < 1 || result.idRecall < 1))
      await appendDifference(this.o.logFile, {
        recall: result.recall,
        idRecall: result.idRecall,
        missing: cmp.missing,
        extra: cmp.extra,
        chromaIds: chroma.ids,
        osIds: s.ids,
        chromaMs: Math.round(chromaMs * 10) / 10,
        osMs: Math.round(osMs * 10) / 10,
      });
    return result;
  }
}

/** n probe vectors: stored vectors of random valid records, slightly perturbed. */
async function probes(ctx: PhaseContext, n: number, seed: number): Promise<Float32Array[]> {
  const tm = readTransformManifest(ctx.store.dir);
  const batches = (tm?.batches ?? []).filter((b) => b.rows > 0);
  const rand = rng(seed);
  const files = await BatchFiles.open();
  const staging = new Staging(ctx);
  const out: Float32Array[] = [];
  try {
    const cache = new Map<number, Float32Array[]>();
    for (let i = 0; i < n && batches.length; i++) {
      const b = batches[Math.floor(rand() * batches.length)] as (typeof batches)[number];
      if (!cache.has(b.batch)) {
        const local = await staging.fetch('transformed', b);
        cache.set(
          b.batch,
          (await files.readVectors(local)).map((r) => r.embedding),
        );
        staging.release(local);
      }
      const vs = cache.get(b.batch) as Float32Array[];
      const v = vs[Math.floor(rand() * vs.length)] as Float32Array;
      let norm = 0;
      for (const x of v) norm += x * x;
      const scale = (Math.sqrt(norm / v.length) || 1) * 0.05;
      out.push(v.map((x) => x + (rand() - 0.5) * scale));
    }
  } finally {
    files.close();
  }
  return out;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number) : 0;
};

export async function verifyPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'load', 'verify');
  const { params, facts } = ctx.store.state;
  const index = targetIndexOf(ctx, 'verify');
  const os = targetOf(ctx);
  const source = await sourceOf(ctx);
  const started = Date.now();
  const problems: string[] = [];
  try {
    await os.refresh(index);
    const exp = readExportManifest(ctx.store.dir);
    const tm = readTransformManifest(ctx.store.dir);
    const live = (await source.collections()).find((c) => c.name === params.source.collection)?.count ?? -1;
    const exported = exp?.total ?? -1;
    const valid = (tm?.batches ?? []).reduce((s, b) => s + b.rows, 0);
    const quarantined = (tm?.batches ?? []).reduce((s, b) => s + b.quarantined, 0);
    const indexed = await os.count(index);
    const counts = { source: live, exported, quarantined, valid, target: indexed };
    if (live !== exported) problems.push(`source has ${live} records, ${exported} were exported`);
    if (indexed !== valid)
      problems.push(`target has ${indexed} documents, ${valid} valid records were loaded`);
    if (valid + quarantined !== exported) problems.push('valid + quarantined ≠ exported');
    ctx.print(
      `Counts: source ${fmt(live)} · exported ${fmt(exported)} · quarantined ${fmt(quarantined)} · valid ${fmt(valid)} · in ${index} ${fmt(indexed)}`,
    );

    // Field-by-field sample, vectors bit-exact.
    const files = await BatchFiles.open();
    const ids: string[] = [];
    try {
      const staging = new Staging(ctx);
      for (const b of tm?.batches ?? []) {
        const local = await staging.fetch('transformed', b);
        ids.push(...(await files.readIds(local)));
        staging.release(local);
      }
    } finally {
      files.close();
    }
    const rand = rng(ctx.opts.seed);
    const sample = new Set<string>();
    const want = Math.min(ctx.opts.sampleSize, ids.length);
    while (sample.size < want) sample.add(ids[Math.floor(rand() * ids.length)] as string);
    const mismatches: { id: string; field: string; source: unknown; target: unknown }[] = [];
    const list = [...sample];
    for (let i = 0; i < list.length; i += 100) {
      const chunk = list.slice(i, i + 100);
      const src = await source.getByIds(params.source.collection, chunk);
      const got = await os.request<{
        docs: { _id: string; found: boolean; _source?: Record<string, unknown> }[];
      }>('POST', `/${encodeURIComponent(index)}/_mget`, { ids: chunk });
      const byId = new Map(got.body.docs.map((d) => [d._id, d]));
      src.ids.forEach((id, j) => {
        const d = byId.get(id);
        if (!d?.found || !d._source) {
          mismatches.push({ id, field: '(document)', source: 'present', target: 'missing' });
          return;
        }
        const t = d._source;
        const meta = src.metadatas[j] ?? null;
        const doc = src.documents[j] ?? null;
        if (t.id !== id) mismatches.push({ id, field: 'id', source: id, target: t.id });
        if ((t.document ?? null) !== doc)
          mismatches.push({ id, field: 'document', source: doc, target: t.document });
        let tMeta: unknown;
        try {
          tMeta = JSON.parse(String(t.metadata));
        } catch {
          tMeta = t.metadata;
        }
        if (!isDeepStrictEqual(tMeta, meta))
          mismatches.push({ id, field: 'metadata', source: meta, target: tMeta });
        if (t.category !== meta?.category)
          mismatches.push({ id, field: 'category', source: meta?.category, target: t.category });
        if (t.price !== parsePrice(meta?.price))
          mismatches.push({ id, field: 'price', source: meta?.price, target: t.price });
        const sv = src.embeddings[j] as Float32Array;
        const tv = Float32Array.from((t.embedding as number[]) ?? []);
        if (!sameBits(sv, tv))
          mismatches.push({
            id,
            field: 'embedding',
            source: Array.from(sv.subarray(0, 4)),
            target: Array.from(tv.subarray(0, 4)),
          });
      });
      if (src.ids.length !== chunk.length)
        problems.push(`${chunk.length - src.ids.length} sampled id(s) no longer exist in the source`);
    }
    if (mismatches.length) problems.push(`${mismatches.length} field mismatch(es) in the sample`);
    ctx.print(
      `Sample: ${fmt(list.length)} record(s) compared field by field (vectors bit-exact): ${mismatches.length} mismatch(es)`,
    );

    // Recall@k on probe queries.
    const cmp = new ShadowComparator({
      source,
      collection: params.source.collection,
      os,
      index,
      space: facts.space ?? 'l2',
      k: ctx.opts.k,
      efSearch: ctx.opts.efSearch,
    });
    const qs = await probes(ctx, ctx.opts.probes, ctx.opts.seed + 1);
    const recalls: number[] = [];
    const idRecalls: number[] = [];
    for (const q of qs) {
      const r = await cmp.compare(q);
      recalls.push(r.recall);
      idRecalls.push(r.idRecall);
    }
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 1);
    const recall = {
      k: ctx.opts.k,
      probes: qs.length,
      mean: mean(recalls),
      min: recalls.length ? Math.min(...recalls) : 1,
      idOverlapMean: mean(idRecalls),
      threshold: ctx.opts.recallMin,
    };
    if (recall.mean < ctx.opts.recallMin)
      problems.push(`recall@${recall.k} ${recall.mean.toFixed(4)} < ${ctx.opts.recallMin}`);
    ctx.print(
      `Recall@${recall.k} over ${recall.probes} probe queries, Chroma vs OpenSearch: mean ${recall.mean.toFixed(4)} (min ${recall.min.toFixed(2)}, plain id overlap ${recall.idOverlapMean.toFixed(4)}; required ≥ ${ctx.opts.recallMin})`,
    );
    const report = {
      migration: ctx.store.state.id,
      index,
      at: new Date().toISOString(),
      passed: problems.length === 0,
      problems,
      counts,
      sample: { size: list.length, mismatches: mismatches.slice(0, 100), mismatchCount: mismatches.length },
      recall,
      seconds: (Date.now() - started) / 1000,
    };
    const file = ctx.store.path('verify', 'report.json');
    writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
    ctx.print(`Verify ${report.passed ? 'PASSED' : 'FAILED'}; report: ${file}`);
    if (!report.passed) throw gateFailed('verify', problems.join('; '), { report: file });
    return { passed: true, counts, sampleSize: list.length, recall: recall.mean, report: file };
  } finally {
    await source.close();
  }
}

export async function shadowPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'verify', 'shadow');
  const { params, facts } = ctx.store.state;
  const os = targetOf(ctx);
  const source = await sourceOf(ctx);
  const stamp = new Date().toISOString().replaceAll(':', '').replace(/\..*$/, '');
  const logFile = ctx.store.path('shadow', `shadow-${stamp}.jsonl`);
  const cutover = ctx.store.isDone('cutover');
  const target = cutover ? params.target.alias : targetIndexOf(ctx, 'shadow');
  try {
    const cmp = new ShadowComparator({
      source,
      collection: params.source.collection,
      os,
      index: target,
      space: facts.space ?? 'l2',
      k: ctx.opts.k,
      efSearch: ctx.opts.efSearch,
      logFile,
    });
    const qs = await probes(ctx, ctx.opts.shadowQueries, Date.now() % 2 ** 31);
    const deadline = Date.now() + ctx.opts.shadowSeconds * 1000;
    const rs = [];
    for (const q of qs) {
      if (Date.now() > deadline) break;
      rs.push(await cmp.compare(q));
    }
    const mean = rs.reduce((s, r) => s + r.recall, 0) / Math.max(1, rs.length);
    const differing = rs.filter((r) => r.recall < 1 || r.idRecall < 1).length;
    const summary = {
      target,
      queries: rs.length,
      differing,
      recallMean: mean,
      chromaP50Ms: percentile(
        rs.map((r) => r.chromaMs),
        0.5,
      ),
      chromaP95Ms: percentile(
        rs.map((r) => r.chromaMs),
        0.95,
      ),
      osP50Ms: percentile(
        rs.map((r) => r.osMs),
        0.5,
      ),
      osP95Ms: percentile(
        rs.map((r) => r.osMs),
        0.95,
      ),
      log: differing ? logFile : null,
    };
    ctx.print(
      `Shadow: ${rs.length} query(ies) against Chroma and ${target}: ${differing} differ (mean recall@${ctx.opts.k} ${mean.toFixed(4)}); latency p50/p95 Chroma ${summary.chromaP50Ms.toFixed(1)}/${summary.chromaP95Ms.toFixed(1)} ms, OpenSearch ${summary.osP50Ms.toFixed(1)}/${summary.osP95Ms.toFixed(1)} ms${differing ? `; differences in ${logFile}` : ''}`,
    );
    if (mean < ctx.opts.recallMin)
      throw gateFailed('shadow', `mean recall ${mean.toFixed(4)} < ${ctx.opts.recallMin}`, summary);
    return summary;
  } finally {
    await source.close();
  }
}
