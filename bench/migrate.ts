/**
 * npm run bench -- migrate [--docs 100000] [--dim 384] [--concurrency 2] [--baseline-seconds 60] [--deadline-seconds 1200]
 *
 * End-to-end docs/s of the Chroma → OpenSearch migration (assess, setup-target, export,
 * transform, load; verify timed separately) for N vectors in a Chroma persistent directory
 * written by Python chromadb (cached under .cache/bench/), against the real OpenSearch of the
 * test harness (started if needed, or OPENSEARCH_URL / CHROMA_PYTHON from the environment).
 * In the same run, a baseline: a naive loader (one bulk request per 1,000-doc batch,
 * sequential, JSON.stringify of plain objects, default index settings) over the same
 * transformed files, bounded by --baseline-seconds; the ratio of load rates is printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BatchFiles,
  DEFAULT_OPTIONS,
  indexBody,
  OpenSearch,
  type Phase,
  type PhaseContext,
  progressFactory,
  readTransformManifest,
  runPhase,
  StateStore,
} from '../migration/index.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    concurrency: { type: 'string', default: '2' },
    'baseline-seconds': { type: 'string', default: '60' },
    'deadline-seconds': { type: 'string', default: '1200' },
  },
});
const DOCS = Number(a.docs);
const DIM = Number(a.dim);
const deadline = Date.now() + Number(a['deadline-seconds']) * 1000;
const repo = path.resolve(import.meta.dirname, '..');

let env: Record<string, string> = {};
if (!process.env.OPENSEARCH_URL || !process.env.CHROMA_PYTHON) {
  const { up } = await import('../test/services/harness.ts');
  env = await up(['chroma', 'opensearch']);
}
const OS_URL = process.env.OPENSEARCH_URL ?? (env.OPENSEARCH_URL as string);
const PYTHON = process.env.CHROMA_PYTHON ?? (env.CHROMA_PYTHON as string);

// 1. The source: N random vectors in a PersistentClient directory (cached: writing it takes minutes).
const srcDir = path.join(repo, '.cache', 'bench', `chroma-${DOCS}x${DIM}`);
if (!existsSync(path.join(srcDir, '.complete'))) {
  rmSync(srcDir, { recursive: true, force: true });
  mkdirSync(srcDir, { recursive: true });
  console.log(`writing ${DOCS} × ${DIM} vectors into ${srcDir} with Python chromadb (one-off)…`);
  const t = Date.now();
  const py = `
import sys, numpy as np, chromadb, pathlib
from chromadb.config import Settings
n, d, p = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = chromadb.PersistentClient(path=p, settings=Settings(anonymized_telemetry=False))
col = c.create_collection(name="products", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
rng = np.random.default_rng(42)
cats = ["Automotive","Electronics","Office_Products","Tools_and_Home_Improvement","Cell_Phones_and_Accessories","Toys_and_Games","Appliances","Musical_Instruments"]
for s in range(0, n, 5000):
    m = min(5000, n - s)
    e = rng.standard_normal((m, d)).astype("float32")
    col.add(ids=[f"doc_{i}" for i in range(s, s+m)], embeddings=e,
            documents=[f"Product {i}: a {cats[i % 8]} item with a description of typical length for the catalog" for i in range(s, s+m)],
            metadatas=[{"category": cats[i % 8], "price": round(0.5 + (i * 7.31) % 999, 2)} for i in range(s, s+m)])
pathlib.Path(p, ".complete").write_text(str(col.count()))
`;
  const r = spawnSync(PYTHON, ['-c', py, String(DOCS), String(DIM), srcDir], {
    stdio: 'inherit',
    env: { ...process.env, ANONYMIZED_TELEMETRY: 'False' },
    timeout: Math.max(1000, deadline - Date.now()),
  });
  if (r.status !== 0) throw new Error('writing the bench collection failed');
  console.log(`  written in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

// 2. The migration, phase by phase, in this process.
const stamp = Date.now().toString(36);
const alias = `bench-mig-${stamp}`;
const stateDir = path.join(repo, '.cache', 'bench', `migrate-state-${stamp}`);
const ctx: PhaseContext = {
  store: StateStore.openOrCreate(stateDir, {
    source: {
      location: srcDir,
      collection: 'products',
      tenant: 'default_tenant',
      database: 'default_database',
    },
    target: { url: OS_URL, alias, engine: 'lucene', shards: 1, replicas: 0, refreshInterval: '1s' },
    batchSize: 1000,
    expectedDimension: DIM,
  }),
  opts: {
    ...DEFAULT_OPTIONS,
    concurrency: Number(a.concurrency),
    flagFile: path.join(stateDir, 'vector-store.json'),
    python: PYTHON,
  },
  print: (l) => console.log(`  ${l}`),
  progress: progressFactory(Boolean(process.stderr.isTTY), process.stderr),
};
const times: Partial<Record<Phase, number>> = {};
const os = new OpenSearch(OS_URL);
const baselineIndex = `${alias}-naive`;
try {
  for (const phase of ['assess', 'setup-target', 'export', 'transform', 'load', 'verify'] as Phase[]) {
    if (Date.now() > deadline) throw new Error(`deadline reached before ${phase}`);
    const t = performance.now();
    await runPhase(ctx, phase);
    times[phase] = (performance.now() - t) / 1000;
  }
  const e2e = (['assess', 'setup-target', 'export', 'transform', 'load'] as Phase[]).reduce(
    (s, p) => s + (times[p] ?? 0),
    0,
  );
  const loadRate = DOCS / (times.load ?? 1);

  // 3. Baseline: naive sequential loader, bounded in time.
  const f = ctx.store.state.facts;
  const body = indexBody({
    dimension: DIM,
    space: f.space ?? 'l2',
    engine: 'lucene',
    shards: 1,
    m: 16,
    efConstruction: 100,
  });
  (body.settings as { index: Record<string, unknown> }).index = {
    knn: true,
    number_of_shards: 1,
    number_of_replicas: 0,
  };
  await os.request('PUT', `/${baselineIndex}`, body);
  const tm = readTransformManifest(stateDir);
  const files = await BatchFiles.open();
  let naiveDocs = 0;
  const tb = performance.now();
  const stopAt = Date.now() + Number(a['baseline-seconds']) * 1000;
  try {
    for (const b of tm?.batches ?? []) {
      if (Date.now() > stopAt || Date.now() > deadline) break;
      const rows = await files.readVectors(path.join(stateDir, 'transformed', b.file));
      const lines = rows.flatMap((r) => [
        JSON.stringify({ index: { _index: baselineIndex, _id: r.id } }),
        JSON.stringify({ ...r, embedding: Array.from(r.embedding) }),
      ]);
      await os.request('POST', '/_bulk', `${lines.join('\n')}\n`, { ndjson: true });
      naiveDocs += rows.length;
    }
  } finally {
    files.close();
  }
  await os.refresh(baselineIndex);
  const naiveSeconds = (performance.now() - tb) / 1000;
  const naiveRate = naiveDocs / naiveSeconds;

  const result = {
    docs: DOCS,
    dim: DIM,
    concurrency: Number(a.concurrency),
    seconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    endToEndSeconds: Math.round(e2e * 100) / 100,
    endToEndDocsPerSecond: Math.round(DOCS / e2e),
    endToEndDocsPerMinute: Math.round((DOCS / e2e) * 60),
    loadDocsPerSecond: Math.round(loadRate),
    baseline: {
      loader: 'naive sequential, 1 bulk/1,000 docs, default settings',
      docs: naiveDocs,
      seconds: Math.round(naiveSeconds * 10) / 10,
      docsPerSecond: Math.round(naiveRate),
    },
    loadSpeedupVsBaseline: Math.round((loadRate / naiveRate) * 100) / 100,
    targetDocsPerMinute: 100_000,
    verify: ctx.store.state.phases.verify?.summary,
  };
  console.log('\nResult:');
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `\nmigrate: ${result.endToEndDocsPerSecond} docs/s end to end (${result.endToEndDocsPerMinute} docs/min; target ≥ 100,000/min), load ${result.loadDocsPerSecond} docs/s vs naive ${result.baseline.docsPerSecond} docs/s = ×${result.loadSpeedupVsBaseline}`,
  );
} finally {
  ctx.store.unlock();
  await os.deleteIndex(`${alias}-v1`).catch(() => undefined);
  await os.deleteIndex(baselineIndex).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
}
