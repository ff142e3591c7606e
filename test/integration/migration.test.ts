/**
 * ChromaDB → OpenSearch migration on the real services: collections written by Python chromadb
 * (persistent directory and server) migrate completely and verify; kills during export and load
 * resume to exact counts; corrupted records are quarantined with reasons; a dimension mismatch
 * is refused before anything is written; rollback after cutover restores the previous alias;
 * the router serves from the flag's store, mirrors live queries in shadow mode and follows
 * cutover and rollback without a restart.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  BatchFiles,
  DEFAULT_OPTIONS,
  type MigrationParams,
  openSource,
  type PhaseContext,
  progressFactory,
  readExportManifest,
  readQuarantine,
  readVectorStoreFlag,
  runAll,
  runPhase,
  StateStore,
  VectorStoreRouter,
} from '../../migration/index.ts';
import { writeChromaFixture } from '../services/chroma.js';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('chroma', 'opensearch');
const run = randomUUID().slice(0, 8);
let work = '';
const REPO = path.resolve(import.meta.dirname, '..', '..');

/** Writes a collection with pseudo-random vectors and optional corrupt records through Python chromadb. */
const WRITER = `
import json, os, sys, numpy as np, chromadb
from chromadb.config import Settings
a = json.loads(sys.argv[1])
s = Settings(anonymized_telemetry=False)
if a.get("path"):
    c = chromadb.PersistentClient(path=a["path"], settings=s)
else:
    from urllib.parse import urlparse
    u = urlparse(a["url"]); c = chromadb.HttpClient(host=u.hostname, port=u.port, settings=s)
kw = {"configuration": {"hnsw": {"space": a["space"]}}} if a.get("space") else {}
col = c.create_collection(name=a["name"], embedding_function=None, **kw)
rng = np.random.default_rng(a.get("seed", 1))
n, d = a["count"], a["dim"]
emb = rng.standard_normal((n, d)).astype("float32")
cats = ["Electronics", "Automotive", "Toys_and_Games", "Appliances"]
ids = [f"doc_{i}" for i in range(n)]
docs = [f"product {i} " + cats[i % 4] for i in range(n)]
metas = [{"category": cats[i % 4], "price": round(5 + i * 1.25, 2)} for i in range(n)]
for i, kind in a.get("corrupt", {}).items():
    i = int(i)
    if kind == "zero": emb[i] = 0
    elif kind == "no_meta": metas[i] = None
    elif kind == "bad_price": metas[i] = {"category": "Toys_and_Games", "price": "call for price"}
    elif kind == "no_category": metas[i] = {"price": 10.0}
    elif kind == "text_price": metas[i] = {"category": "Electronics", "price": "$1,299.99"}
    elif kind == "negative_price": metas[i] = {"category": "Electronics", "price": -3}
for s0 in range(0, n, 500):
    col.add(ids=ids[s0:s0+500], embeddings=emb[s0:s0+500], documents=docs[s0:s0+500], metadatas=metas[s0:s0+500])
print(json.dumps({"count": col.count()}))
`;

async function writeCollection(args: Record<string, unknown>): Promise<void> {
  const script = path.join(work, 'writer.py');
  writeFileSync(script, WRITER);
  const r = await runChild(svc.env.CHROMA_PYTHON as string, [script, JSON.stringify(args)], {}, 120_000);
  if (r.code !== 0) throw new Error(`writer failed: ${r.stderr.slice(-2000)}`);
}

function runChild(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: REPO,
      env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', DEALFINDER_LOG_LEVEL: 'silent', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The options naming a migration from the harness's Chroma server to its OpenSearch. */
const serverMigration = (stateDir: string, collection: string, alias: string) => [
  '--state',
  stateDir,
  '--source',
  svc.env.CHROMA_URL as string,
  '--collection',
  collection,
  '--target',
  svc.env.OPENSEARCH_URL as string,
  '--alias',
  alias,
];

/** The CLI entry in a child process (so a crash hook can SIGKILL it). */
const cli = (args: string[], env: Record<string, string> = {}) =>
  runChild(process.execPath, ['--import', 'tsx', 'cli/run.ts', 'migrate', ...args], env, 240_000);

/** `migrate assess` of a source into the harness's OpenSearch, with its own state directory. */
const assessFrom = (source: string, stateName: string) =>
  cli([
    'assess',
    '--state',
    path.join(work, stateName),
    '--source',
    source,
    '--target',
    svc.env.OPENSEARCH_URL as string,
  ]);

function context(dir: string, params: MigrationParams, lines: string[]): PhaseContext {
  return {
    store: StateStore.openOrCreate(dir, params),
    opts: {
      ...DEFAULT_OPTIONS,
      probes: 20,
      sampleSize: 100,
      shadowQueries: 10,
      shadowSeconds: 20,
      flagFile: path.join(dir, 'vector-store.json'),
      python: svc.env.CHROMA_PYTHON,
    },
    print: (l) => lines.push(l),
    progress: progressFactory(false, { write: () => true } as unknown as NodeJS.WritableStream),
  };
}

function params(
  location: string,
  collection: string,
  alias: string,
  over: Partial<MigrationParams> = {},
): MigrationParams {
  return {
    source: { location, collection, tenant: 'default_tenant', database: 'default_database' },
    target: {
      url: svc.env.OPENSEARCH_URL as string,
      alias,
      engine: 'lucene',
      shards: 1,
      replicas: 0,
      refreshInterval: '1s',
    },
    batchSize: 100,
    expectedDimension: null,
    ...over,
  };
}

async function osGet<T>(route: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const r = await fetch(`${svc.env.OPENSEARCH_URL}${route}`, {
    ...init,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, body: (await r.json()) as T };
}
const aliasTargets = async (alias: string) => {
  const r = await osGet<Record<string, unknown>>(`/_alias/${alias}`);
  return r.status === 404 ? [] : Object.keys(r.body).sort();
};
const osCount = async (index: string) => (await osGet<{ count: number }>(`/${index}/_count`)).body.count;

const created: string[] = [];
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'migration-it-'));
});
afterAll(async () => {
  for (const i of created)
    await fetch(`${svc.env.OPENSEARCH_URL}/${i}*`, { method: 'DELETE' }).catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
});

svc.describe('chroma → opensearch migration', () => {
  it('migrates a persistent directory written by Python chromadb (384 dims, cosine) and verify passes', async () => {
    const dir = path.join(work, 'persist');
    await writeChromaFixture({ python: svc.env.CHROMA_PYTHON as string, path: dir, count: 300, dim: 384 });
    const alias = `mig-dir-${run}`;
    created.push(alias);
    const lines: string[] = [];
    const ctx = context(
      path.join(work, 'st-dir'),
      params(dir, 'products', alias, {
        expectedDimension: 384,
        target: { ...params(dir, 'products', alias).target, bulkFormat: 'smile' },
      }),
      lines,
    );
    await runAll(ctx, 'cutover');
    const s = ctx.store.state;
    expect(s.facts).toMatchObject({ dimension: 384, space: 'cosine', count: 300, index: `${alias}-v1` });
    expect(s.phases.verify?.status).toBe('done');
    expect(s.phases.verify?.summary).toMatchObject({
      passed: true,
      counts: { source: 300, exported: 300, target: 300 },
    });
    expect(await osCount(`${alias}-v1`)).toBe(300);
    expect(await aliasTargets(alias)).toEqual([`${alias}-v1`]);
    const mapping = await osGet<
      Record<string, { mappings: { properties: { embedding: Record<string, unknown> } } }>
    >(`/${alias}-v1/_mapping`);
    expect(mapping.body[`${alias}-v1`]?.mappings.properties.embedding).toMatchObject({
      type: 'knn_vector',
      dimension: 384,
      method: { engine: 'lucene', space_type: 'cosinesimil' },
    });
    expect(readVectorStoreFlag(ctx.opts.flagFile)?.backend).toBe('opensearch');
    // Idempotent: a second run does nothing new.
    const again: string[] = [];
    await runAll({ ...ctx, print: (l) => again.push(l) }, 'verify');
    expect(again.filter((l) => l.includes('already done'))).toHaveLength(6);
    ctx.store.unlock();
  });

  it('migrates a server collection with corrupt records: quarantined with reasons; l2 default; then cutover and rollback', async () => {
    const name = `mig-srv-${run}`;
    await writeCollection({
      url: svc.env.CHROMA_URL,
      name,
      count: 400,
      dim: 16,
      seed: 7,
      corrupt: {
        3: 'no_meta',
        50: 'bad_price',
        77: 'no_category',
        120: 'text_price',
        201: 'negative_price',
        333: 'zero',
      },
    });
    const alias = `mig-srv-${run}`;
    created.push(alias);
    // A previous index behind the alias, as after an earlier migration.
    const old = `${alias}-old`;
    await osGet(`/${old}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    await osGet('/_aliases', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions: [{ add: { index: old, alias } }] }),
    });
    const lines: string[] = [];
    const ctx = context(path.join(work, 'st-srv'), params(svc.env.CHROMA_URL as string, name, alias), lines);
    await runAll(ctx, 'cutover');
    const s = ctx.store.state;
    // No hnsw:space given: Chroma's default l2, mapped to l2 (not cosine); the zero vector is valid under l2.
    expect(s.facts.space).toBe('l2');
    const q = readQuarantine(ctx.store.dir);
    expect(q.map((e) => [e.record_id, e.error_code]).sort()).toEqual(
      [
        ['doc_201', 'non_positive_price'],
        ['doc_3', 'missing_metadata'],
        ['doc_50', 'unparseable_price'],
        ['doc_77', 'missing_category'],
      ].sort(),
    );
    expect(q.every((e) => e.message.length > 0 && JSON.parse(e.original).id === e.record_id)).toBe(true);
    expect(await osCount(`${alias}-v1`)).toBe(396);
    const doc120 = await osGet<{ _source: { price: number; metadata: string } }>(`/${alias}-v1/_doc/doc_120`);
    expect(doc120.body._source.price).toBe(1299.99);
    expect(JSON.parse(doc120.body._source.metadata)).toEqual({ category: 'Electronics', price: '$1,299.99' });
    expect(s.phases.verify?.summary).toMatchObject({ passed: true });
    expect(s.phases.verify?.summary?.recall as number).toBeGreaterThanOrEqual(0.95);
    expect(await aliasTargets(alias)).toEqual([`${alias}-v1`]);
    expect(s.facts.cutover?.previous).toEqual([old]);

    await runPhase(ctx, 'rollback');
    expect(await aliasTargets(alias)).toEqual([old]);
    expect(readVectorStoreFlag(ctx.opts.flagFile)?.backend).toBe('chroma');
    expect(await osCount(`${alias}-v1`)).toBe(396); // nothing deleted
    // cleanup refuses after a rollback; and is refused without age/confirmation otherwise.
    await expect(runPhase(ctx, 'cleanup')).rejects.toThrow(/cutover/);
    ctx.store.unlock();
  });

  it('quarantines zero vectors of a cosine collection', async () => {
    const name = `mig-cos-${run}`;
    await writeCollection({
      url: svc.env.CHROMA_URL,
      name,
      count: 120,
      dim: 8,
      space: 'cosine',
      corrupt: { 5: 'zero', 9: 'zero' },
    });
    const alias = `mig-cos-${run}`;
    created.push(alias);
    const lines: string[] = [];
    const ctx = context(path.join(work, 'st-cos'), params(svc.env.CHROMA_URL as string, name, alias), lines);
    await runAll(ctx, 'verify');
    expect(lines.join('\n')).toMatch(/zero vectors 2 \(cosine rejects them/);
    expect(readQuarantine(ctx.store.dir).map((e) => [e.record_id, e.error_code])).toEqual([
      ['doc_5', 'zero_vector'],
      ['doc_9', 'zero_vector'],
    ]);
    expect(await osCount(`${alias}-v1`)).toBe(118);
    ctx.store.unlock();
  });

  it('refuses a dimension mismatch and an unreadable store before anything is written', async () => {
    const name = `mig-dim-${run}`;
    await writeCollection({ url: svc.env.CHROMA_URL, name, count: 50, dim: 16 });
    const alias = `mig-dim-${run}`;
    const stateDir = path.join(work, 'st-dim');
    const r = await cli(['run', ...serverMigration(stateDir, name, alias)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /error\[migration-dimension-mismatch\]: dimension mismatch: .* 16-dimensional .* expects 384/,
    );
    expect(r.stderr).toMatch(/hint: migrate into a target of the same dimension/);
    expect((await osGet(`/${alias}-v*`)).body).toEqual({});
    expect(existsSync(path.join(stateDir, 'export'))).toBe(false);
    const st = StateStore.read(stateDir)?.state;
    expect(st?.phases.assess?.status).toBe('failed');
    expect(st?.phases['setup-target']).toBeUndefined();

    const empty = path.join(work, 'not-a-store');
    rmSync(empty, { recursive: true, force: true });
    const u = await assessFrom(empty, 'st-bad');
    expect(u.code).toBe(4);
    expect(u.stderr).toMatch(
      /error\[migration-source-unreadable\]: cannot read the Chroma store .* not a Chroma persistent directory/,
    );
    expect(u.stderr).toMatch(/hint: check the --source URL/);

    // A directory whose chroma.sqlite3 is not a database: chromadb cannot open it.
    const corrupt = path.join(work, 'corrupt-store');
    mkdirSync(corrupt, { recursive: true });
    writeFileSync(path.join(corrupt, 'chroma.sqlite3'), 'this is not an sqlite database\n'.repeat(200));
    const c = await assessFrom(corrupt, 'st-corrupt');
    expect(c.code).toBe(4);
    expect(c.stderr).toMatch(/error\[migration-source-unreadable\]: cannot read the Chroma store/);
    expect(c.stderr).toMatch(/hint: /);

    // A server that does not answer.
    const down = await assessFrom('http://127.0.0.1:9', 'st-down');
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(
      /error\[migration-source-unreadable\]: cannot read the Chroma store at http:\/\/127\.0\.0\.1:9/,
    );
  });

  it('refuses a source whose dimension differs from what the alias serves, before creating the index', async () => {
    const name = `mig-alias-${run}`;
    await writeCollection({ url: svc.env.CHROMA_URL, name, count: 30, dim: 16 });
    const alias = `mig-alias-${run}`;
    created.push(alias);
    const old = `${alias}-old`;
    const put = await osGet(`/${old}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        settings: { index: { knn: true } },
        mappings: {
          properties: {
            embedding: {
              type: 'knn_vector',
              dimension: 8,
              method: { name: 'hnsw', engine: 'lucene', space_type: 'l2' },
            },
          },
        },
      }),
    });
    expect(put.status).toBe(200);
    await osGet('/_aliases', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions: [{ add: { index: old, alias } }] }),
    });
    const stateDir = path.join(work, 'st-alias');
    const r = await cli(['run', ...serverMigration(stateDir, name, alias), '--dimension', 'any']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /error\[migration-dimension-mismatch\]: dimension mismatch: the alias .* serves .*-old with 8-dimensional vectors, the source has 16/,
    );
    expect(r.stderr).toMatch(/hint: readers of .* query with 8-dim vectors/);
    expect((await osGet(`/${alias}-v1`)).status).toBe(404);
    expect(await aliasTargets(alias)).toEqual([old]);
    const st = StateStore.read(stateDir)?.state;
    expect(st?.phases['setup-target']?.status).toBe('failed');
    expect(st?.phases['setup-target']?.error?.code).toBe('migration-dimension-mismatch');
    expect(existsSync(path.join(stateDir, 'export'))).toBe(false);
  });

  it('live shadow mode: the router serves from the flag, mirrors to OpenSearch, logs a planted difference, and follows cutover and rollback', async () => {
    const name = `mig-live-${run}`;
    await writeCollection({ url: svc.env.CHROMA_URL, name, count: 300, dim: 16, seed: 11 });
    const alias = `mig-live-${run}`;
    created.push(alias);
    const stateDir = path.join(work, 'st-live');
    const ctx = context(stateDir, params(svc.env.CHROMA_URL as string, name, alias), []);
    await runAll(ctx, 'verify');
    ctx.store.unlock();
    const flagFile = ctx.opts.flagFile;
    // No flag yet: a clear error, not a silent default.
    expect(() => VectorStoreRouter.open({ flagFile })).toThrow(/cannot read the vector-store flag/);

    // Switched on through the CLI, as an operator would.
    const on = await cli(['shadow-mode', 'on', '--state', stateDir, '--flag-file', flagFile]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/live shadow ON \(serving from chroma, mirroring to OpenSearch/);
    expect(readVectorStoreFlag(flagFile)).toMatchObject({
      backend: 'chroma',
      shadow: true,
      space: 'l2',
      opensearch: { alias, index: `${alias}-v1` },
    });
    const status = await cli(['status', '--state', stateDir, '--flag-file', flagFile]);
    expect(status.stdout).toMatch(/serving from chroma, live shadow ON \(mirroring to mig-live-\w+-v1\)/);

    const shadowLog = path.join(work, 'live-shadow.jsonl');
    const router = VectorStoreRouter.open({ flagFile, shadowLog, reloadMs: 0, maxShadowInFlight: 64 });
    try {
      let seed = 5;
      const rand = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648 - 0.5;
      };
      const queries = Array.from({ length: 20 }, () => Float32Array.from({ length: 16 }, () => rand() * 4));
      const first = await router.nearest(queries[0] as Float32Array, 5);
      expect(first.backend).toBe('chroma');
      expect(first.ids).toHaveLength(5);
      expect([...first.distances].sort((a, b) => a - b)).toEqual(first.distances);
      for (const q of queries.slice(1)) await router.nearest(q, 5);
      await router.drain();
      let st = router.stats();
      expect(st).toMatchObject({
        served: { chroma: 20, opensearch: 0 },
        shadowed: 20,
        errors: 0,
        dropped: 0,
      });
      expect(st.recallMean as number).toBeGreaterThanOrEqual(0.95);
      const differingBefore = st.differing;

      // Plant a difference: the nearest product of query 0 disappears from the new index.
      const gone = first.ids[0] as string;
      await osGet(`/${alias}-v1/_doc/${gone}?refresh=true`, { method: 'DELETE' });
      await router.nearest(queries[0] as Float32Array, 5);
      await router.drain();
      st = router.stats();
      expect(st.differing).toBe(differingBefore + 1);
      const logged = readFileSync(shadowLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { missing: string[]; servedBy: string });
      expect(logged.at(-1)).toMatchObject({ servedBy: 'chroma', missing: [gone] });

      // Cutover: the same router now serves from the alias, no restart; same neighbours as Chroma.
      await runPhase(ctx, 'cutover');
      ctx.store.unlock();
      // A query whose Chroma top-5 does not hold the deleted product: both stores must agree on it.
      const source = await openSource({ location: svc.env.CHROMA_URL as string, collection: name });
      const answers = await source.query(name, queries, 5);
      await source.close();
      const pick = answers.ids.findIndex((ids) => !ids.includes(gone));
      expect(pick).toBeGreaterThanOrEqual(0);
      const q1 = queries[pick] as Float32Array;
      const fromOs = await router.nearest(q1, 5);
      expect(fromOs.backend).toBe('opensearch');
      expect(fromOs.ids).toEqual(answers.ids[pick]);
      fromOs.distances.forEach((d, i) => {
        expect(d).toBeCloseTo(answers.distances[pick]?.[i] as number, 3);
      });

      // Rollback restores the flag as it was before cutover: Chroma serves again (shadow still on).
      await runPhase(ctx, 'rollback');
      ctx.store.unlock();
      const back = await router.nearest(q1, 5);
      expect(back.backend).toBe('chroma');
      expect(readVectorStoreFlag(flagFile)).toMatchObject({ backend: 'chroma', shadow: true });
      await router.drain();
      expect(router.stats().served).toEqual({ chroma: 22, opensearch: 1 });
    } finally {
      await router.close();
    }
  });

  it('resumes after SIGKILL during export and during load: exact counts, no duplicates', async () => {
    const name = `mig-kill-${run}`;
    await writeCollection({ url: svc.env.CHROMA_URL, name, count: 1200, dim: 16, seed: 3 });
    const alias = `mig-kill-${run}`;
    created.push(alias);
    const stateDir = path.join(work, 'st-kill');
    const base = [
      ...serverMigration(stateDir, name, alias),
      '--dimension',
      'any',
      '--batch-size',
      '100',
      '--replicas',
      '0',
      '--probes',
      '20',
    ];
    const k1 = await cli(['run', ...base, '--until', 'export'], {
      DEALFINDER_CRASH_AT: 'export:file-written:5',
    });
    expect(k1.signal).toBe('SIGKILL');
    const m1 = readExportManifest(stateDir);
    expect(m1?.files.map((f) => f.batch)).toEqual([1, 2, 3, 4]);
    expect(m1?.complete).toBe(false);

    const k2 = await cli(['run', ...base, '--until', 'load', '--concurrency', '2'], {
      DEALFINDER_CRASH_AT: 'load:bulk-sent:7',
    });
    expect(k2.signal).toBe('SIGKILL');
    expect(k2.stdout).toMatch(/Resuming export at batch 5/);
    const m2 = readExportManifest(stateDir);
    expect(m2?.complete).toBe(true);
    expect(m2?.files).toHaveLength(12);
    expect(StateStore.read(stateDir)?.state.phases.load?.status).toBe('running');

    const done = await cli(['run', ...base, '--until', 'verify']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Resuming load into .*already loaded/);
    expect(done.stdout).toMatch(/Verify PASSED/);
    expect(await osCount(`${alias}-v1`)).toBe(1200);
    // No duplicates anywhere: export files hold each id once, the index holds 1,200 distinct ids.
    const files = await BatchFiles.open();
    const ids: string[] = [];
    try {
      for (const f of readdirSync(path.join(stateDir, 'export')).filter((n) => n.endsWith('.parquet')))
        ids.push(...(await files.readIds(path.join(stateDir, 'export', f))));
    } finally {
      files.close();
    }
    expect(ids).toHaveLength(1200);
    expect(new Set(ids).size).toBe(1200);
    const agg = await osGet<{ aggregations: { ids: { value: number } } }>(`/${alias}-v1/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        size: 0,
        aggs: { ids: { cardinality: { field: 'id', precision_threshold: 40000 } } },
      }),
    });
    expect(agg.body.aggregations.ids.value).toBe(1200);
    const status = await cli(['status', '--state', stateDir]);
    expect(status.stdout).toMatch(/verify\s+│\s+done\s+│/);
  });
});
