/**
 * Migration with an S3 staging location (moto): export writes Parquet files + manifest with
 * SHA-256 to S3, transform and load read them back from S3 and refuse a file whose bytes differ
 * from the manifest; a bucket that does not exist is refused before anything is exported.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DEFAULT_OPTIONS,
  type ExportManifest,
  type MigrationParams,
  type PhaseContext,
  progressFactory,
  readTransformManifest,
  runAll,
  runPhase,
  StateStore,
} from '../../migration/index.ts';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('moto', 'chroma', 'opensearch');
const run = randomUUID().slice(0, 8);
const bucket = `mig-staging-${run}`;
let work = '';
let s3: S3Client;

function context(dir: string, params: MigrationParams): PhaseContext {
  return {
    store: StateStore.openOrCreate(dir, params),
    opts: {
      ...DEFAULT_OPTIONS,
      probes: 10,
      sampleSize: 50,
      flagFile: path.join(dir, 'vector-store.json'),
      python: svc.env.CHROMA_PYTHON,
      s3,
    },
    print: () => undefined,
    progress: progressFactory(false, { write: () => true } as unknown as NodeJS.WritableStream),
  };
}

function params(collection: string, alias: string, staging: string): MigrationParams {
  return {
    source: {
      location: svc.env.CHROMA_URL as string,
      collection,
      tenant: 'default_tenant',
      database: 'default_database',
    },
    target: {
      url: svc.env.OPENSEARCH_URL as string,
      alias,
      engine: 'lucene',
      shards: 1,
      replicas: 0,
      refreshInterval: '1s',
      bulkFormat: 'smile',
    },
    batchSize: 100,
    staging,
    expectedDimension: 16,
  };
}

function writeCollection(name: string, count: number): void {
  const py = `
import sys, numpy as np, chromadb
from chromadb.config import Settings
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
c = chromadb.HttpClient(host=u.hostname, port=u.port, settings=Settings(anonymized_telemetry=False))
col = c.create_collection(name=sys.argv[2], embedding_function=None)
n = int(sys.argv[3])
e = np.random.default_rng(5).standard_normal((n, 16)).astype("float32")
m = [{"category": "Toys_and_Games", "price": 1.5 + i} for i in range(n)]
m[7] = {"category": "Toys_and_Games", "price": "call for price"}
col.add(ids=[f"doc_{i}" for i in range(n)], embeddings=e, documents=[f"toy {i}" for i in range(n)], metadatas=m)
`;
  const r = spawnSync(
    svc.env.CHROMA_PYTHON as string,
    ['-c', py, svc.env.CHROMA_URL as string, name, String(count)],
    {
      env: { ...process.env, ANONYMIZED_TELEMETRY: 'False', NO_PROXY: '127.0.0.1' },
      timeout: 120_000,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`writer failed: ${r.stderr}`);
}

async function keys(prefix: string): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key as string).sort();
}

const created: string[] = [];
svc.describe('migration with S3 staging (moto)', () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'migration-s3-'));
    s3 = new S3Client({
      region: svc.env.AWS_REGION ?? 'us-east-1',
      endpoint: svc.env.AWS_ENDPOINT_URL,
      forcePathStyle: true,
      credentials: {
        accessKeyId: svc.env.AWS_ACCESS_KEY_ID as string,
        secretAccessKey: svc.env.AWS_SECRET_ACCESS_KEY as string,
      },
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    for (const i of created)
      await fetch(`${svc.env.OPENSEARCH_URL}/${i}*`, { method: 'DELETE' }).catch(() => undefined);
    s3?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('exports Parquet + manifest with checksums to S3, transforms and loads from S3, refuses a changed file', async () => {
    const name = `mig-s3-${run}`;
    writeCollection(name, 250);
    const alias = `mig-s3-${run}`;
    created.push(alias);
    const dir = path.join(work, 'st');
    const ctx = context(dir, params(name, alias, `s3://${bucket}/migrations`));
    const prefix = `migrations/${ctx.store.state.id}`;
    await runAll(ctx, 'transform');

    // Export: 3 Parquet files + manifest in S3, no local Parquet copies.
    expect(await keys(`${prefix}/export/`)).toEqual([
      `${prefix}/export/manifest.json`,
      `${prefix}/export/part-000001.parquet`,
      `${prefix}/export/part-000002.parquet`,
      `${prefix}/export/part-000003.parquet`,
    ]);
    expect(readdirSync(path.join(dir, 'export'))).toEqual(['manifest.json']);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/export/manifest.json` }),
    );
    const manifest = JSON.parse(
      await (got.Body as { transformToString(): Promise<string> }).transformToString(),
    ) as ExportManifest;
    expect(manifest).toMatchObject({
      complete: true,
      total: 250,
      location: `s3://${bucket}/${prefix}/export`,
    });
    expect(manifest.files.map((f) => [f.count, f.sha256.length, f.uri])).toEqual(
      [1, 2, 3].map((b, i) => [
        i < 2 ? 100 : 50,
        64,
        `s3://${bucket}/${prefix}/export/part-00000${b}.parquet`,
      ]),
    );
    expect(await keys(`${prefix}/transformed/`)).toHaveLength(4);
    expect(existsSync(path.join(dir, 'transformed', 'part-000001.parquet'))).toBe(false);

    // A transformed file changed in S3 (same recorded checksum, other bytes): load refuses it.
    const tm = readTransformManifest(dir);
    const first = tm?.batches[0];
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}/transformed/${first?.file}`,
        Body: 'not the parquet file',
        Metadata: { sha256: first?.sha256 as string },
      }),
    );
    await expect(runPhase(ctx, 'load')).rejects.toThrow(
      /part-000001\.parquet is missing or its SHA-256 differs/,
    );
    expect(ctx.store.phase('load')?.error?.code).toBe('migration-gate-failed');

    // Rerunning transform redoes exactly that batch (size differs), then load and verify pass.
    await runPhase(ctx, 'transform');
    await runAll(ctx, 'verify');
    const count = (await (await fetch(`${svc.env.OPENSEARCH_URL}/${alias}-v1/_count`)).json()) as {
      count: number;
    };
    expect(count.count).toBe(249);
    expect(ctx.store.state.phases.verify?.summary).toMatchObject({
      passed: true,
      counts: { source: 250, exported: 250, quarantined: 1, valid: 249, target: 249 },
    });
    ctx.store.unlock();
  });

  it('refuses a staging bucket that does not exist before exporting anything', async () => {
    const name = `mig-s3b-${run}`;
    writeCollection(name, 20);
    const dir = path.join(work, 'st-nobucket');
    const ctx = context(dir, params(name, `mig-s3b-${run}`, `s3://no-such-bucket-${run}/x`));
    await runPhase(ctx, 'assess');
    const err = await runPhase(ctx, 'export').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'migration-refused' });
    expect((err as Error).message).toMatch(/staging bucket no-such-bucket-.* is not usable/);
    expect((err as { hint?: string }).hint).toMatch(/create the bucket/);
    expect(existsSync(path.join(dir, 'export', 'part-000001.parquet'))).toBe(false);
    ctx.store.unlock();
  });
});
