/**
 * DuckDB on an s3:// lake against the moto server, configured by pipelines/s3/duckdb-s3.ts from the
 * platform config (endpoint, path-style URLs, no TLS): a deals partition written to
 * s3://<bucket>/lake/deals/dt=…/ with the schema's exact column types, read back (also
 * hive-partitioned, as the query views do), and the objects checked with the S3 API.
 * httpfs comes from test/services/duckdb-ext.ts (PyPI wheel of the same DuckDB version).
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, expect, it } from 'vitest';
import { awsClients } from '../../core/aws.ts';
import { type Config, loadConfig } from '../../core/config.ts';
import { Lake, TABLES } from '../../core/lake.ts';
import { configureDuckDbS3, duckDbS3Statements } from '../../pipelines/s3/duckdb-s3.ts';
import { Deal, sqlProjectionOf, sqlTypeOf } from '../../schemas/index.ts';
import { DuckdbExtensionUnavailableError, duckdbExtensionDir } from '../services/duckdb-ext.js';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('moto');
const bucket = `lake-${randomUUID().slice(0, 8)}`;
let config: Config;
let extensionDirectory = '';
let unavailable: string | null = null;

svc.describe('DuckDB on an s3:// lake (moto)', () => {
  beforeAll(async () => {
    try {
      extensionDirectory = await duckdbExtensionDir();
    } catch (error) {
      if (!(error instanceof DuckdbExtensionUnavailableError) || process.env.CI === 'true') throw error;
      unavailable = error.message;
      console.warn(`[s3-lake] SKIP: ${error.message}`);
      return;
    }
    config = loadConfig({
      env: {},
      overrides: {
        lake: { root: `s3://${bucket}/lake` },
        aws: { bucket, endpoint: svc.env.AWS_ENDPOINT_URL },
      },
    });
    const clients = awsClients(config);
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    clients.destroy();
  });

  it('builds the secret from the config (path style, no SSL against an http endpoint)', () => {
    const [, , secret] = duckDbS3Statements(
      {
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:4566',
        forcePathStyle: true,
        maxAttempts: 1,
        retryMode: 'standard',
      },
      { extensionDirectory: "/x/it's", credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } },
    );
    expect(secret).toBe(
      "CREATE OR REPLACE SECRET dealfinder_s3 (TYPE s3, REGION 'eu-west-1', KEY_ID 'AK', SECRET 'SK', ENDPOINT '127.0.0.1:4566', USE_SSL false, URL_STYLE 'path')",
    );
    expect(
      duckDbS3Statements(
        {
          region: 'us-east-1',
          endpoint: undefined,
          forcePathStyle: false,
          maxAttempts: 1,
          retryMode: 'standard',
        },
        { env: {} },
      ),
    ).toEqual([
      'LOAD httpfs',
      "CREATE OR REPLACE SECRET dealfinder_s3 (TYPE s3, REGION 'us-east-1', URL_STYLE 'vhost')",
    ]);
  });

  it('writes a deals partition to s3://…/lake/deals/dt=…/ and reads it back', async (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
    const connection = await instance.connect();
    try {
      const t0 = performance.now();
      await configureDuckDbS3(connection, config, { extensionDirectory });
      const t1 = performance.now();
      const part = `${config.lake.root}/${TABLES.deals.path}/dt=2026-01-02`;
      const n = 5_000;
      // Values for the fields the test reads; every other Deal field (today's and any added later) is NULL.
      const values: Partial<Record<keyof typeof Deal.fields, string>> = {
        deal_id: 'substr(md5(i::VARCHAR), 1, 16)',
        url: "'https://shop.example/p/' || i",
        link: "'https://www.shop.example/p/' || i || '?utm_source=rss'",
        title: "'Deal ' || i",
        description: "'about deal ' || i",
        price: '10 + (i % 100) * 1.5',
        price_kind: "'exact'",
        category: "['Electronics','Toys'][(i % 2) + 1]",
        source: "'feed-a'",
        event_time: "TIMESTAMP '2026-01-02 00:00:00' + INTERVAL (i) SECOND",
        seen_at: "TIMESTAMP '2026-01-02 00:00:00' + INTERVAL (i) SECOND",
      };
      const columns = Object.keys(Deal.fields)
        .map((f) => `${values[f as keyof typeof Deal.fields] ?? 'NULL'} AS ${f}`)
        .join(', ');
      await connection.run(`
        COPY (
          SELECT ${sqlProjectionOf(Deal, 'duckdb')} FROM (SELECT ${columns} FROM range(${n}) t(i)))
        TO '${part}/part-0.parquet' (FORMAT parquet)`);
      const t2 = performance.now();
      const back = (
        await connection.runAndReadAll(
          `SELECT count(*) AS n, count(DISTINCT deal_id) AS ids, round(sum(price), 2) AS total
           FROM read_parquet('${part}/*.parquet')`,
        )
      ).getRowObjectsJson();
      const t3 = performance.now();
      const expectedTotal = Array.from({ length: n }, (_, i) => 10 + (i % 100) * 1.5).reduce(
        (a, b) => a + b,
        0,
      );
      expect(back).toEqual([{ n: String(n), ids: String(n), total: expectedTotal }]);
      const types = (
        await connection.runAndReadAll(
          `DESCRIBE SELECT * FROM read_parquet('${part}/*.parquet', hive_partitioning = false)`,
        )
      ).getRowObjectsJson();
      expect(types.map((r) => [r.column_name, r.column_type])).toEqual(
        Object.entries(Deal.fields).map(([name, spec]) => [name, sqlTypeOf(spec, 'duckdb')]),
      );
      const hive = (
        await connection.runAndReadAll(
          `SELECT dt, count(*) AS n FROM read_parquet('${config.lake.root}/deals/*/*.parquet', hive_partitioning = true) GROUP BY dt`,
        )
      ).getRowObjectsJson();
      expect(hive).toEqual([{ dt: '2026-01-02', n: String(n) }]);
      console.log(
        `[s3-lake] configure ${(t1 - t0).toFixed(0)} ms, write ${n} deals ${(t2 - t1).toFixed(0)} ms, read back ${(t3 - t2).toFixed(0)} ms`,
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    const clients = awsClients(config);
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'lake/' }));
    clients.destroy();
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['lake/deals/dt=2026-01-02/part-0.parquet']);
  });

  it("Lake paths on the s3:// root are the objects' URIs (staging, partitions, sub-partitions)", async (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    const lake = new Lake(config.lake.root);
    const date = '2026-01-03';
    // path.join would have made these s3:/bucket/…, which DuckDB and Spark take for a local path.
    const targets = [
      lake.partitionDir('quarantine', date, 'cleanup'),
      lake.stagingDir('run-1', 'enriched_deals', date),
      lake.partitionDir('products'),
    ];
    expect(targets).toEqual([
      `s3://${bucket}/lake/quarantine/dt=${date}/step=cleanup`,
      `s3://${bucket}/lake/_staging/run-1/enriched_deals/dt=${date}`,
      `s3://${bucket}/lake/catalog/products`,
    ]);
    const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
    const connection = await instance.connect();
    try {
      await configureDuckDbS3(connection, config, { extensionDirectory });
      for (const [i, dir] of targets.entries())
        await connection.run(
          `COPY (SELECT ${i} AS n FROM range(${i + 1})) TO '${dir}/part-0.parquet' (FORMAT parquet)`,
        );
      const counts = [];
      for (const dir of targets)
        counts.push(
          (
            await connection.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${dir}/*.parquet')`)
          ).getRowObjectsJson()[0]?.n,
        );
      expect(counts).toEqual(['1', '2', '3']);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    const clients = awsClients(config);
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'lake/' }));
    clients.destroy();
    expect(listed.Contents?.map((o) => o.Key).filter((k) => !k?.startsWith('lake/deals/'))).toEqual([
      'lake/_staging/run-1/enriched_deals/dt=2026-01-03/part-0.parquet',
      'lake/catalog/products/part-0.parquet',
      'lake/quarantine/dt=2026-01-03/step=cleanup/part-0.parquet',
    ]);
    expect(lake.partitionFiles('quarantine', date, 'cleanup')).toEqual([]); // remote: not listed from here
  });
});
