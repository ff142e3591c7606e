/**
 * npm run bench -- migrate [--docs 100000] [--dim 384] [--data embedding|gaussian] [--space l2|cosine|ip]
 *   [--source <Chroma persistent directory with a "products" collection>]
 *   [--concurrency 2] [--readers 2] [--bulk-format smile|json] [--m <n>] [--ef-construction <n>]
 *   [--baseline-docs 20000] [--deadline-seconds 1200]
 *
 * End-to-end docs/s of the Chroma → OpenSearch migration (assess, setup-target, export,
 * transform, load; verify timed separately) for N vectors in a Chroma persistent directory
 * written by Python chromadb (cached under .cache/bench/), against the real OpenSearch of the
 * test harness (started if needed, or OPENSEARCH_URL / CHROMA_PYTHON from the environment).
 *
 * The source mirrors the prototype's collection: "products", ids doc_<i>, a description, metadata
 * {category, price}, and by default no hnsw:space (Chroma's l2). Its vectors (--data):
 * - embedding (default): unit vectors shaped like sentence embeddings of a product catalog —
 *   categories → topics → products, a low-dimensional within-topic spread plus a little isotropic
 *   noise (nearest-neighbour cosine ≈ 0.9, random pairs ≈ 0.06). HNSW build cost depends on the
 *   data's intrinsic dimension, so this is the figure to plan with; no model can be downloaded
 *   here to embed real descriptions with all-MiniLM-L6-v2.
 * - gaussian: i.i.d. N(0,1) in all 384 dimensions — the worst case for HNSW (≈ 1.8× the build
 *   CPU of the embedding-like data, and a true recall@10 near 0.55).
 * --source benchmarks a copy of a real store instead (--dim must match it; rates use its count).
 * In the same run, a baseline: the first --baseline-docs records loaded by a naive loader and
 * by the migration's loader into fresh indices; the ratio of the two rates is printed.
 * The machine may be shared: the 1-minute load average is printed with every phase. The true
 * recall@10 of the new index (OpenSearch k-NN vs exact brute force over all vectors) is measured
 * on the verify probes, so the effect of the HNSW parameters is visible.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BatchFiles,
  type BulkFormat,
  bulkIndex,
  DEFAULT_OPTIONS,
  distance,
  indexBody,
  OpenSearch,
  osKnn,
  type Phase,
  type PhaseContext,
  progressFactory,
  readTransformManifest,
  runPhase,
  SmileWriter,
  StateStore,
  type VectorRow,
} from '../migration/index.ts';

const { values: a } = parseArgs({
  options: {
    docs: { type: 'string', default: '100000' },
    dim: { type: 'string', default: '384' },
    data: { type: 'string', default: 'embedding' },
    space: { type: 'string', default: 'l2' },
    source: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    readers: { type: 'string', default: String(DEFAULT_OPTIONS.readers) },
    'bulk-format': { type: 'string', default: 'smile' },
    m: { type: 'string' },
    'ef-construction': { type: 'string' },
    'baseline-docs': { type: 'string', default: '20000' },
    'deadline-seconds': { type: 'string', default: '1200' },
  },
});
const DOCS = Number(a.docs);
const BASELINE_DOCS = Number(a['baseline-docs']);
const DIM = Number(a.dim);
const DATA = a.data as string;
const SPACE = a.space as string;
if (!['embedding', 'gaussian'].includes(DATA))
  throw new Error(`--data must be embedding or gaussian, not ${DATA}`);
if (!['l2', 'cosine', 'ip'].includes(SPACE))
  throw new Error(`--space must be l2, cosine or ip, not ${SPACE}`);
const deadline = Date.now() + Number(a['deadline-seconds']) * 1000;
const repo = path.resolve(import.meta.dirname, '..');

let env: Record<string, string> = {};
if (!process.env.OPENSEARCH_URL || !process.env.CHROMA_PYTHON) {
  const { servicesUp } = await import('./support/services.ts');
  env = servicesUp(['chroma', 'opensearch']);
}
const OS_URL = process.env.OPENSEARCH_URL ?? (env.OPENSEARCH_URL as string);
const PYTHON = process.env.CHROMA_PYTHON ?? (env.CHROMA_PYTHON as string);

// 1. The source: N random vectors in a PersistentClient directory (cached: writing it takes minutes).
const srcDir = a.source
  ? path.resolve(a.source)
  : path.join(repo, '.cache', 'bench', `chroma-${DOCS}x${DIM}-${DATA}-${SPACE}`);
if (!a.source && !existsSync(path.join(srcDir, '.complete'))) {
  rmSync(srcDir, { recursive: true, force: true });
  mkdirSync(srcDir, { recursive: true });
  console.log(
    `writing ${DOCS} × ${DIM} ${DATA} vectors (space ${SPACE}) into ${srcDir} with Python chromadb (one-off)…`,
  );
  const t = Date.now();
  const py = `
import sys, numpy as np, chromadb, pathlib
from chromadb.config import Settings
n, d, p, kind, space = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
c = chromadb.PersistentClient(path=p, settings=Settings(anonymized_telemetry=False))
# Like the prototype: no hnsw:space at all for l2 (Chroma's default).
conf = {} if space == "l2" else {"configuration": {"hnsw": {"space": space}}}
col = c.create_collection(name="products", embedding_function=None, **conf)
rng = np.random.default_rng(42)
cats = ["Automotive","Electronics","Office_Products","Tools_and_Home_Improvement","Cell_Phones_and_Accessories","Toys_and_Games","Appliances","Musical_Instruments"]
def unit(x): return x / np.linalg.norm(x, axis=-1, keepdims=True)
if kind == "embedding":
    topics_n = max(1, n // 50)
    centroids = unit(rng.standard_normal((8, d)))
    topics = unit(centroids[np.arange(topics_n) % 8] + 0.9 * unit(rng.standard_normal((topics_n, d))))
    spread = rng.standard_normal((32, d)) / np.sqrt(d)
for s in range(0, n, 5000):
    m = min(5000, n - s)
    if kind == "embedding":
        t = np.arange(s, s + m) % topics_n
        e = unit(topics[t] + 0.35 * unit(rng.standard_normal((m, 32)) @ spread) + 0.12 * unit(rng.standard_normal((m, d)))).astype("float32")
    else:
        e = rng.standard_normal((m, d)).astype("float32")
    col.add(ids=[f"doc_{i}" for i in range(s, s+m)], embeddings=e,
            documents=[f"Product {i}: a {cats[i % 8]} item with a description of typical length for the catalog" for i in range(s, s+m)],
            metadatas=[{"category": cats[i % 8], "price": round(0.5 + (i * 7.31) % 999, 2)} for i in range(s, s+m)])
pathlib.Path(p, ".complete").write_text(str(col.count()))
`;
  const r = spawnSync(PYTHON, ['-c', py, String(DOCS), String(DIM), srcDir, DATA, SPACE], {
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
    target: {
      url: OS_URL,
      alias,
      engine: 'lucene',
      shards: 1,
      replicas: 0,
      refreshInterval: '1s',
      bulkFormat: a['bulk-format'] as BulkFormat,
      ...(a.m || a['ef-construction']
        ? {
            hnsw: {
              ...(a.m ? { m: Number(a.m) } : {}),
              ...(a['ef-construction'] ? { efConstruction: Number(a['ef-construction']) } : {}),
            },
          }
        : {}),
    },
    batchSize: 1000,
    expectedDimension: DIM,
  }),
  opts: {
    ...DEFAULT_OPTIONS,
    concurrency: Number(a.concurrency),
    readers: Number(a.readers),
    flagFile: path.join(stateDir, 'vector-store.json'),
    python: PYTHON,
  },
  print: (l) => console.log(`  ${l}`),
  progress: progressFactory(Boolean(process.stderr.isTTY), process.stderr),
};
const times: Partial<Record<Phase, number>> = {};
const loads: Partial<Record<Phase, [number, number]>> = {};
const la = () => Math.round((loadavg()[0] as number) * 100) / 100;
const load0 = la();
const os = new OpenSearch(OS_URL);
const baselineIndex = `${alias}-naive`;
const optimizedIndex = `${alias}-loader`;
try {
  for (const phase of ['assess', 'setup-target', 'export', 'transform', 'load', 'verify'] as Phase[]) {
    if (Date.now() > deadline) throw new Error(`deadline reached before ${phase}`);
    const t = performance.now();
    const l0 = la();
    await runPhase(ctx, phase);
    times[phase] = (performance.now() - t) / 1000;
    loads[phase] = [l0, la()];
    console.log(`  [${phase}: ${times[phase]?.toFixed(1)} s, load average ${l0} → ${la()}]`);
  }
  const load1 = la();
  const e2e = (['assess', 'setup-target', 'export', 'transform', 'load'] as Phase[]).reduce(
    (s, p) => s + (times[p] ?? 0),
    0,
  );
  // The records migrated (with --source, the store's count rather than --docs).
  const total = (ctx.store.state.facts.count as number | undefined) ?? DOCS;
  const loadRate = total / (times.load ?? 1);

  // 3. True recall@10 of the new index: OpenSearch k-NN vs exact brute force over all valid vectors.
  const exact = await exactRecall(stateDir, `${alias}-v1`, ctx.store.state.facts.space ?? 'l2', 30, 10);
  console.log(
    `  exact recall@10 of ${alias}-v1 over ${exact.probes} probes (ef_search 100): ${exact.recall.toFixed(4)}`,
  );

  // 4. Baseline, same run, same documents: the first --baseline-docs transformed records loaded
  // (a) naively: sequential, one bulk per 1,000 docs, JSON.stringify of plain objects, default
  // index settings; (b) by the migration's loader (bulkIndex, its format, concurrency and index
  // settings). Both into fresh indices, so the ratio compares like with like on a shared machine.
  const f = ctx.store.state.facts;
  const tm = readTransformManifest(stateDir);
  const files = await BatchFiles.open();
  const subset: VectorRow[][] = [];
  try {
    let n = 0;
    for (const b of tm?.batches ?? []) {
      if (n >= BASELINE_DOCS) break;
      const rows = await files.readVectors(path.join(stateDir, 'transformed', b.file));
      subset.push(rows);
      n += rows.length;
    }
  } finally {
    files.close();
  }
  const baselineDocs = subset.reduce((s, r) => s + r.length, 0);
  const hnsw = (ctx.store.state.phases['setup-target']?.summary?.hnsw ?? {}) as {
    m?: number;
    efConstruction?: number;
  };
  const indexOpts = {
    dimension: DIM,
    space: f.space ?? 'l2',
    engine: 'lucene' as const,
    shards: 1,
    m: hnsw.m ?? 16,
    efConstruction: hnsw.efConstruction ?? 100,
  };
  const naiveBody = indexBody(indexOpts);
  (naiveBody.settings as { index: Record<string, unknown> }).index = {
    knn: true,
    number_of_shards: 1,
    number_of_replicas: 0,
  };
  await os.request('PUT', `/${baselineIndex}`, naiveBody);
  const tb = performance.now();
  const lb0 = la();
  for (const rows of subset) {
    const lines = rows.flatMap((r) => [
      JSON.stringify({ index: { _index: baselineIndex, _id: r.id } }),
      JSON.stringify({ ...r, embedding: Array.from(r.embedding) }),
    ]);
    await os.request('POST', '/_bulk', `${lines.join('\n')}\n`, { ndjson: true });
  }
  await os.refresh(baselineIndex);
  const naiveSeconds = (performance.now() - tb) / 1000;
  const naiveRate = baselineDocs / naiveSeconds;
  const fmtName = a['bulk-format'] as BulkFormat;
  await os.request(
    'PUT',
    `/${optimizedIndex}`,
    indexBody({ ...indexOpts, derivedSource: fmtName !== 'smile' }),
  );
  const to = performance.now();
  const stats = { requests: 0, itemRetries: 0, pressure: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(a.concurrency) }, async () => {
      const w = new SmileWriter();
      while (next < subset.length) {
        const rows = subset[next++] as VectorRow[];
        await bulkIndex(os, optimizedIndex, rows, DEFAULT_OPTIONS.retry, stats, fmtName, w);
      }
    }),
  );
  await os.refresh(optimizedIndex);
  const optimizedSeconds = (performance.now() - to) / 1000;
  const optimizedRate = baselineDocs / optimizedSeconds;
  const lb1 = la();

  const result = {
    docs: total,
    dim: DIM,
    data: a.source ? `source ${srcDir}` : DATA,
    space: ctx.store.state.facts.space,
    concurrency: Number(a.concurrency),
    readers: Number(a.readers),
    seconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    endToEndSeconds: Math.round(e2e * 100) / 100,
    endToEndDocsPerSecond: Math.round(total / e2e),
    endToEndDocsPerMinute: Math.round((total / e2e) * 60),
    loadDocsPerSecond: Math.round(loadRate),
    bulkFormat: a['bulk-format'],
    hnsw: ctx.store.state.phases['setup-target']?.summary?.hnsw,
    exactRecallAt10: Math.round(exact.recall * 10000) / 10000,
    loadAverage: { start: load0, end: load1, byPhase: loads },
    baseline: {
      docs: baselineDocs,
      naive: {
        loader: 'sequential, 1 bulk/1,000 docs, JSON.stringify, default index settings',
        seconds: Math.round(naiveSeconds * 10) / 10,
        docsPerSecond: Math.round(naiveRate),
      },
      migrationLoader: {
        loader: `bulkIndex ${fmtName}, concurrency ${a.concurrency}, bulk-load index settings`,
        seconds: Math.round(optimizedSeconds * 10) / 10,
        docsPerSecond: Math.round(optimizedRate),
      },
      loadAverage: [lb0, lb1],
    },
    loadSpeedupVsBaseline: Math.round((optimizedRate / naiveRate) * 100) / 100,
    targetDocsPerMinute: 100_000,
    verify: ctx.store.state.phases.verify?.summary,
  };
  console.log('\nResult:');
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `\nmigrate: ${result.endToEndDocsPerSecond} docs/s end to end (${result.endToEndDocsPerMinute} docs/min; target ≥ 100,000/min), load ${result.loadDocsPerSecond} docs/s; same-run baseline on ${baselineDocs} docs: loader ${Math.round(optimizedRate)} vs naive ${Math.round(naiveRate)} docs/s = ×${result.loadSpeedupVsBaseline}; load average ${load0} at start, ${load1} after load, ${la()} at the end; exact recall@10 ${result.exactRecallAt10}`,
  );
} finally {
  ctx.store.unlock();
  await os.deleteIndex(`${alias}-v1`).catch(() => undefined);
  await os.deleteIndex(baselineIndex).catch(() => undefined);
  await os.deleteIndex(optimizedIndex).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
}

/** Mean recall@k of OpenSearch's k-NN against exact brute-force top-k, for perturbed stored vectors. */
async function exactRecall(
  dir: string,
  index: string,
  space: 'l2' | 'cosine' | 'ip',
  probes: number,
  k: number,
): Promise<{ probes: number; recall: number }> {
  const tm = readTransformManifest(dir);
  const files = await BatchFiles.open();
  const ids: string[] = [];
  const vecs: Float32Array[] = [];
  try {
    for (const b of tm?.batches ?? [])
      for (const r of await files.readVectors(path.join(dir, 'transformed', b.file))) {
        ids.push(r.id);
        vecs.push(r.embedding);
      }
  } finally {
    files.close();
  }
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let sum = 0;
  for (let p = 0; p < probes; p++) {
    const v = vecs[Math.floor(rand() * vecs.length)] as Float32Array;
    const q = v.map((x) => x + (rand() - 0.5) * 0.05);
    const best: { d: number; id: string }[] = [];
    for (let i = 0; i < vecs.length; i++) {
      const d = distance(space, q, vecs[i] as Float32Array);
      if (best.length < k || d < (best[best.length - 1] as { d: number }).d) {
        best.push({ d, id: ids[i] as string });
        best.sort((x, y) => x.d - y.d);
        if (best.length > k) best.pop();
      }
    }
    const got = await osKnn(os, index, q, k, 100);
    const want = new Set(best.map((b) => b.id));
    sum += got.ids.filter((id) => want.has(id)).length / k;
  }
  return { probes, recall: sum / probes };
}
