/** Phase 4: validate and map every exported record; quarantine the bad ones with reasons. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../core/lake.ts';
import { VectorQuarantineRecord, validate } from '../schemas/index.ts';
import { fmt, gateFailed, type PhaseContext, requireDone } from './context.ts';
import { batchName, readExportManifest } from './export.ts';
import { BatchFiles, sha256File } from './parquet.ts';
import { type VectorQuarantineEntry, type VectorRow, validateRow } from './records.ts';
import { Staging } from './staging.ts';
import { readJson, writeFileAtomic } from './state.ts';

export interface TransformBatch {
  batch: number;
  exportSha256: string;
  file: string;
  sha256: string;
  rows: number;
  quarantined: number;
  bytes?: number;
  /** s3:// URI when the staging location is S3. */
  uri?: string;
}

export interface TransformManifest {
  complete: boolean;
  location?: string;
  batches: TransformBatch[];
  byCode: Record<string, number>;
}

export function readTransformManifest(dir: string): TransformManifest | null {
  return readJson<TransformManifest>(path.join(dir, 'transformed', 'manifest.json'));
}

/** All quarantine entries of a migration (one JSONL file per export batch). */
export function readQuarantine(dir: string): VectorQuarantineEntry[] {
  const m = readTransformManifest(dir);
  const out: VectorQuarantineEntry[] = [];
  for (const b of m?.batches ?? []) {
    const f = path.join(dir, 'quarantine', `${batchName(b.batch)}.jsonl`);
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

export async function transformPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'export', 'transform');
  const { facts, params } = ctx.store.state;
  const exp = readExportManifest(ctx.store.dir);
  if (!exp?.complete) throw gateFailed('transform', 'the export is not complete');
  const outDir = ctx.store.path('transformed');
  const qDir = ctx.store.path('quarantine');
  const manifestFile = path.join(outDir, 'manifest.json');
  const old = readTransformManifest(ctx.store.dir);
  const staging = new Staging(ctx);
  const manifest: TransformManifest = {
    complete: false,
    location: staging.where('transformed'),
    batches: [],
    byCode: {},
  };
  const files = await BatchFiles.open();
  const seen = new Set<string>();
  const started = Date.now();
  let redone = 0;
  const bar = ctx.progress('transform', exp.total, 'docs');
  let done = 0;
  try {
    for (const f of exp.files) {
      const prior = old?.batches.find((b) => b.batch === f.batch);
      const outFile = path.join(outDir, `${batchName(f.batch)}.parquet`);
      if (
        prior &&
        prior.exportSha256 === f.sha256 &&
        (old?.location ?? manifest.location) === manifest.location &&
        (await staging.intact('transformed', prior))
      ) {
        const local = await staging.fetch('transformed', prior);
        for (const id of await files.readIds(local)) seen.add(id);
        staging.release(local);
        for (const q of readQuarantineBatch(qDir, f.batch)) seen.add(q.record_id);
        manifest.batches.push(prior);
        for (const q of readQuarantineBatch(qDir, f.batch))
          manifest.byCode[q.error_code] = (manifest.byCode[q.error_code] ?? 0) + 1;
        done += f.count;
        continue;
      }
      const exported = await staging.fetch('export', f);
      const rows = await files.readExport(exported);
      staging.release(exported);
      const good: VectorRow[] = [];
      const bad: VectorQuarantineEntry[] = [];
      rows.forEach((row, i) => {
        const r = validateRow(
          row,
          {
            migrationId: ctx.store.state.id,
            source: `${params.source.location}#${params.source.collection}`,
            batch: f.batch,
            sourceRow: i,
            dimension: facts.dimension as number,
            space: facts.space ?? 'l2',
          },
          seen,
        );
        if (r.ok) good.push(r.row);
        else {
          const checked = validate(VectorQuarantineRecord, r.quarantine);
          if (!checked.ok) throw new Error(`quarantine record invalid: ${JSON.stringify(checked.issues)}`);
          bad.push(checked.value);
        }
      });
      await files.writeVectors(outFile, good);
      writeFileAtomic(
        path.join(qDir, `${batchName(f.batch)}.jsonl`),
        bad.map((q) => `${JSON.stringify(q)}\n`).join(''),
      );
      for (const q of bad) manifest.byCode[q.error_code] = (manifest.byCode[q.error_code] ?? 0) + 1;
      const entry: TransformBatch = {
        batch: f.batch,
        exportSha256: f.sha256,
        file: path.basename(outFile),
        sha256: await sha256File(outFile),
        bytes: statSync(outFile).size,
        rows: good.length,
        quarantined: bad.length,
      };
      const uri = await staging.publish('transformed', outFile, entry);
      manifest.batches.push(uri ? { ...entry, uri } : entry);
      writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
      crashPoint(`transform:checkpoint:${f.batch}`);
      redone++;
      done += f.count;
      bar.update(done);
    }
  } finally {
    bar.stop();
    files.close();
  }
  manifest.complete = true;
  writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  await staging.putManifest('transformed', manifest);
  const rows = manifest.batches.reduce((s, b) => s + b.rows, 0);
  const quarantined = manifest.batches.reduce((s, b) => s + b.quarantined, 0);
  const seconds = (Date.now() - started) / 1000;
  ctx.print(
    `Transformed ${fmt(exp.total)} record(s) (${redone} batch(es) processed, ${exp.files.length - redone} unchanged): ${fmt(rows)} valid, ${fmt(quarantined)} quarantined in ${seconds.toFixed(1)} s`,
  );
  for (const [code, n] of Object.entries(manifest.byCode).sort((a, b) => b[1] - a[1]))
    ctx.print(`  quarantine ${code}: ${fmt(n)}`);
  if (quarantined) ctx.print(`  quarantine files: ${qDir}/part-*.jsonl`);
  const summary = { rows, quarantined, byCode: manifest.byCode, batches: exp.files.length, seconds };
  const rate = quarantined / Math.max(1, exp.total);
  if (rate > ctx.opts.maxQuarantineRate)
    throw gateFailed(
      'transform',
      `${(rate * 100).toFixed(2)}% of the records were quarantined (max ${(ctx.opts.maxQuarantineRate * 100).toFixed(2)}%)`,
      summary,
    );
  return summary;
}

function readQuarantineBatch(dir: string, batch: number): VectorQuarantineEntry[] {
  const f = path.join(dir, `${batchName(batch)}.jsonl`);
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as VectorQuarantineEntry);
}
