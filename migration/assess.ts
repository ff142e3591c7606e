/** Phase 1: read the source completely and describe it; refuse what cannot be migrated. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fmt, type PhaseContext, readChunkOf, sourceOf } from './context.ts';
import { firstNonFinite, isZeroVector } from './records.ts';
import { isHttpLocation, readInOrder, type SpaceName, spaceOf } from './source/index.ts';
import { writeFileAtomic } from './state.ts';
import { refuse } from './target.ts';

export interface AssessReport {
  readonly source: { kind: 'http' | 'path'; location: string };
  readonly collections: { name: string; id: string; count: number }[];
  readonly collection: string;
  readonly count: number;
  readonly dimensions: Record<string, number>;
  readonly dimension: number | null;
  readonly space: SpaceName;
  readonly spaceFrom: string;
  readonly hnsw: { m: number; efConstruction: number };
  readonly zeroVectors: number;
  readonly nonFiniteVectors: number;
  readonly withoutMetadata: number;
  readonly withoutDocument: number;
  readonly metadataKeys: Record<string, Record<string, number>>;
  readonly sizeBytes: number;
  readonly sizeKind: 'on-disk' | 'estimated';
  readonly seconds: number;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v;
}

export async function assess(ctx: PhaseContext): Promise<AssessReport> {
  const started = Date.now();
  const { params } = ctx.store.state;
  const source = await sourceOf(ctx, ctx.opts.readers);
  try {
    const collections = await source.collections();
    ctx.print(
      `Source ${source.kind === 'http' ? 'server' : 'directory'} ${source.location}: ${collections.length} collection(s): ${collections.map((c) => `${c.name} (${fmt(c.count)})`).join(', ') || '-'}`,
    );
    const col = collections.find((c) => c.name === params.source.collection);
    if (!col)
      throw refuse(
        `collection "${params.source.collection}" is not in the source`,
        `pick one of: ${collections.map((c) => c.name).join(', ') || '(none)'} with --collection`,
      );
    const { space, from } = spaceOf(col);
    const hnswConf = (col.configuration.hnsw ?? {}) as Record<string, unknown>;
    const hnsw = {
      m: typeof hnswConf.max_neighbors === 'number' ? hnswConf.max_neighbors : 16,
      efConstruction: typeof hnswConf.ef_construction === 'number' ? hnswConf.ef_construction : 100,
    };
    const dims = new Map<number, number>();
    const keys: Record<string, Record<string, number>> = {};
    let zero = 0;
    let nonFinite = 0;
    let noMeta = 0;
    let noDoc = 0;
    let bytes = 0;
    let seen = 0;
    const bar = ctx.progress('assess', col.count, 'records');
    const chunk = readChunkOf(params.batchSize);
    // Chunks are read `readers` at a time (directory sources: on as many chromadb processes).
    const stats = source.stats?.bind(source);
    if (stats)
      // A directory source computes the figures next to the data (numpy): no vector transfer.
      await readInOrder(
        (offset) => stats(col.name, offset, chunk),
        (st) => st.count,
        chunk,
        ctx.opts.readers,
        (st) => {
          for (const [d, n] of Object.entries(st.dims)) dims.set(Number(d), (dims.get(Number(d)) ?? 0) + n);
          zero += st.zero;
          nonFinite += st.nonFinite;
          noMeta += st.noMeta;
          noDoc += st.noDoc;
          for (const [k, types] of Object.entries(st.keys)) {
            keys[k] ??= {};
            const t = keys[k];
            for (const [n, c] of Object.entries(types)) t[n] = (t[n] ?? 0) + c;
          }
          seen += st.count;
          bar.update(seen);
        },
      );
    else
      await readInOrder(
        (offset) => source.get(col.name, offset, chunk),
        (b) => b.ids.length,
        chunk,
        ctx.opts.readers,
        (b) => {
          for (let i = 0; i < b.ids.length; i++) {
            const e = b.embeddings[i] ?? new Float32Array(0);
            dims.set(e.length, (dims.get(e.length) ?? 0) + 1);
            if (isZeroVector(e)) zero++;
            if (firstNonFinite(e) >= 0) nonFinite++;
            const m = b.metadatas[i];
            if (!m || Object.keys(m).length === 0) noMeta++;
            else
              for (const [k, v] of Object.entries(m)) {
                keys[k] ??= {};
                const t = keys[k];
                const n = typeName(v);
                t[n] = (t[n] ?? 0) + 1;
              }
            const doc = b.documents[i];
            if (doc === null || doc === undefined) noDoc++;
            bytes +=
              (b.ids[i]?.length ?? 0) +
              (doc?.length ?? 0) +
              (m ? JSON.stringify(m).length : 0) +
              e.length * 4;
          }
          seen += b.ids.length;
          bar.update(seen);
        },
      );
    bar.stop();
    const dimensions = Object.fromEntries([...dims.entries()].map(([d, n]) => [String(d), n]));
    const dimension = dims.size === 1 ? ([...dims.keys()][0] as number) : null;
    const onDisk = !isHttpLocation(source.location);
    const report: AssessReport = {
      source: { kind: source.kind, location: source.location },
      collections: collections.map((c) => ({ name: c.name, id: c.id, count: c.count })),
      collection: col.name,
      count: seen,
      dimensions,
      dimension,
      space,
      spaceFrom: from,
      hnsw,
      zeroVectors: zero,
      nonFiniteVectors: nonFinite,
      withoutMetadata: noMeta,
      withoutDocument: noDoc,
      metadataKeys: keys,
      sizeBytes: onDisk ? dirSize(path.resolve(source.location)) : bytes,
      sizeKind: onDisk ? 'on-disk' : 'estimated',
      seconds: (Date.now() - started) / 1000,
    };
    writeFileAtomic(ctx.store.path('assess.json'), `${JSON.stringify(report, null, 2)}\n`);
    ctx.print(`Collection ${col.name}: ${fmt(seen)} records (count() says ${fmt(col.count)})`);
    ctx.print(`  dimension ${dimension ?? `MIXED ${JSON.stringify(dimensions)}`}`);
    ctx.print(
      `  distance ${space} (${from}) → OpenSearch space_type ${space === 'l2' ? 'l2' : space === 'cosine' ? 'cosinesimil' : 'innerproduct'}`,
    );
    ctx.print(`  hnsw m=${hnsw.m} ef_construction=${hnsw.efConstruction}`);
    ctx.print(
      `  metadata keys: ${
        Object.entries(keys)
          .map(
            ([k, t]) =>
              `${k}{${Object.entries(t)
                .map(([n, c]) => `${n}:${c}`)
                .join(',')}}`,
          )
          .join(' ') || '(none)'
      }`,
    );
    ctx.print(
      `  without metadata ${fmt(noMeta)}, without document ${fmt(noDoc)}, zero vectors ${fmt(zero)}${space === 'cosine' && zero ? ' (cosine rejects them: they will be quarantined)' : ''}, non-finite ${fmt(nonFinite)}`,
    );
    ctx.print(`  size ${(report.sizeBytes / 1e6).toFixed(1)} MB (${report.sizeKind})`);
    if (seen !== col.count)
      throw refuse(
        `the collection returned ${seen} records but count() is ${col.count}: the source is changing or unreadable`,
        'stop writers to the collection, then rerun assess',
      );
    if (seen === 0) throw refuse(`collection ${col.name} is empty`, 'nothing to migrate');
    if (dimension === null)
      throw refuse(
        `collection ${col.name} has mixed embedding dimensions ${JSON.stringify(dimensions)}`,
        'a k-NN field has one dimension: re-embed or split the collection before migrating',
        { dimensions },
        'migration-dimension-mismatch',
      );
    if (params.expectedDimension !== null && dimension !== params.expectedDimension)
      throw refuse(
        `dimension mismatch: collection ${col.name} has ${dimension}-dimensional embeddings, the target expects ${params.expectedDimension}`,
        'migrate into a target of the same dimension (--dimension), or re-embed the source; nothing was written',
        { dimension, expected: params.expectedDimension },
        'migration-dimension-mismatch',
      );
    ctx.store.state.facts.dimension = dimension;
    ctx.store.state.facts.space = space;
    ctx.store.state.facts.count = seen;
    ctx.store.state.facts.hnsw = hnsw;
    return report;
  } finally {
    await source.close();
  }
}
