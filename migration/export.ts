/** Phase 3: stream every record to Parquet batch files with a manifest; checkpoint per batch. */
import { statSync } from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../core/lake.ts';
import { fmt, gateFailed, type PhaseContext, readChunkOf, requireDone, sourceOf } from './context.ts';
import { BatchFiles, sha256File } from './parquet.ts';
import type { ExportRow } from './records.ts';
import { type ChromaSource, readInOrder } from './source/index.ts';
import { Staging } from './staging.ts';
import { readJson, writeFileAtomic } from './state.ts';

export interface ManifestFile {
  batch: number;
  file: string;
  offset: number;
  count: number;
  bytes: number;
  sha256: string;
  firstId: string | null;
  lastId: string | null;
  /** s3:// URI when the staging location is S3 (no local copy then). */
  uri?: string;
}

export interface ExportManifest {
  collection: string;
  batchSize: number;
  /** Where the files are: the local export folder or the s3:// prefix. */
  location?: string;
  expected: number;
  complete: boolean;
  total: number;
  files: ManifestFile[];
}

export const batchName = (b: number) => `part-${String(b).padStart(6, '0')}`;

export function readExportManifest(dir: string): ExportManifest | null {
  return readJson<ExportManifest>(path.join(dir, 'export', 'manifest.json'));
}

export async function exportPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'assess', 'export');
  const { params, facts } = ctx.store.state;
  const dir = ctx.store.path('export');
  const manifestFile = path.join(dir, 'manifest.json');
  const expected = facts.count as number;
  let manifest = readExportManifest(ctx.store.dir);
  if (
    manifest &&
    (manifest.batchSize !== params.batchSize || manifest.collection !== params.source.collection)
  )
    manifest = null;
  manifest ??= {
    collection: params.source.collection,
    batchSize: params.batchSize,
    expected,
    complete: false,
    total: 0,
    files: [],
  };
  const staging = new Staging(ctx);
  if (manifest.location !== undefined && manifest.location !== staging.where('export')) manifest.files = [];
  manifest.location = staging.where('export');
  await staging.check();
  // A checkpointed file must still be there, unchanged; from the first one that is not, redo.
  for (let i = 0; i < manifest.files.length; i++) {
    const f = manifest.files[i] as ManifestFile;
    if (!(await staging.intact('export', f))) {
      ctx.print(`  ${f.file} is missing or changed: exporting again from batch ${f.batch}`);
      manifest.files = manifest.files.slice(0, i);
      manifest.complete = false;
      break;
    }
  }
  manifest.total = manifest.files.reduce((s, f) => s + f.count, 0);
  if (manifest.complete) {
    ctx.print(`Export already complete: ${fmt(manifest.total)} records in ${manifest.files.length} file(s)`);
    return { total: manifest.total, files: manifest.files.length, resumedFrom: null, seconds: 0 };
  }
  const resumedFrom = manifest.files.length ? manifest.files.length + 1 : null;
  if (resumedFrom)
    ctx.print(`Resuming export at batch ${resumedFrom} (${fmt(manifest.total)} records already exported)`);
  const started = Date.now();
  const files = await BatchFiles.open();
  const bar = ctx.progress('export', expected, 'docs');
  let source: ChromaSource | null = null;
  let written = 0;
  try {
    const src = await sourceOf(ctx, ctx.opts.readers);
    source = src;
    const chunk = readChunkOf(params.batchSize);
    // Up to `readers` chunks are read ahead (on as many reader processes) while one is written.
    await readInOrder(
      (offset) => src.get(params.source.collection, offset, chunk),
      (b) => b.ids.length,
      chunk,
      ctx.opts.readers,
      async (b, offset) => {
        // Split the read into batch files, each written and checkpointed on its own.
        for (let at = 0; at < b.ids.length; at += params.batchSize) {
          const batch = (offset + at) / params.batchSize + 1;
          const rows: ExportRow[] = [];
          for (let i = at; i < Math.min(at + params.batchSize, b.ids.length); i++) {
            const embedding = b.embeddings[i] ?? new Float32Array(0);
            rows.push({
              id: b.ids[i] as string,
              document: b.documents[i] ?? null,
              metadata: JSON.stringify(b.metadatas[i] ?? null),
              dimension: embedding.length,
              embedding,
            });
          }
          const name = `${batchName(batch)}.parquet`;
          const full = path.join(dir, name);
          await files.writeExport(full, rows);
          crashPoint(`export:file-written:${batch}`);
          const entry: ManifestFile = {
            batch,
            file: name,
            offset: offset + at,
            count: rows.length,
            bytes: statSync(full).size,
            sha256: await sha256File(full),
            firstId: rows[0]?.id ?? null,
            lastId: rows.at(-1)?.id ?? null,
          };
          const uri = await staging.publish('export', full, entry);
          manifest.files.push(uri ? { ...entry, uri } : entry);
          manifest.total += rows.length;
          writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
          if (staging.isRemote) await staging.putManifest('export', manifest);
          crashPoint(`export:checkpoint:${batch}`);
          written += rows.length;
          bar.update(manifest.total);
        }
      },
      manifest.files.length * params.batchSize,
    );
  } finally {
    bar.stop();
    files.close();
    await source?.close();
  }
  const seconds = (Date.now() - started) / 1000;
  if (manifest.total !== expected) {
    writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    throw gateFailed(
      'export',
      `exported ${manifest.total} records, assess counted ${expected}: the source changed`,
      {
        exported: manifest.total,
        expected,
      },
    );
  }
  manifest.complete = true;
  writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  await staging.putManifest('export', manifest);
  ctx.print(
    `Exported ${fmt(written)} record(s) in ${seconds.toFixed(1)} s${resumedFrom ? ` (resumed at batch ${resumedFrom})` : ''}; total ${fmt(manifest.total)} in ${manifest.files.length} Parquet file(s) under ${manifest.location}`,
  );
  return {
    total: manifest.total,
    files: manifest.files.length,
    location: manifest.location,
    written,
    resumedFrom,
    seconds,
    docsPerSecond: Math.round(written / Math.max(seconds, 0.001)),
  };
}
