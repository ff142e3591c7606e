/**
 * Glue Data Catalog on the moto server: database and one table per lake table from schemas/,
 * created, left alone on a re-run, updated when a definition drifts; partitions added after a run
 * and re-adding them is a no-op.
 */
import { randomUUID } from 'node:crypto';
import {
  GetPartitionsCommand,
  GetTableCommand,
  GetTablesCommand,
  type GlueClient,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AwsClients, awsClients } from '../../core/aws.ts';
import { loadConfig } from '../../core/config.ts';
import { TABLES } from '../../core/lake.ts';
import { partitionsOfJobs } from '../../pipelines/emr/orchestrator.ts';
import {
  addPartitions,
  ensureCatalog,
  glueTableInput,
  partitionInputOf,
} from '../../pipelines/glue/catalog.ts';
import { glueColumnsOf } from '../../schemas/index.ts';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('moto');
const database = `df_${randomUUID().slice(0, 8)}`;
const lakeRoot = 's3://glue-lake/lake';
let clients: AwsClients;
let glue: GlueClient;

svc.describe('Glue Data Catalog on moto', () => {
  beforeAll(() => {
    clients = awsClients(loadConfig({ env: {}, overrides: { aws: { endpoint: svc.env.AWS_ENDPOINT_URL } } }));
    glue = clients.glue;
  });
  afterAll(() => clients?.destroy());

  it('creates the database and every lake table; a re-run changes nothing', async () => {
    const t0 = performance.now();
    const first = await ensureCatalog(glue, { database, lakeRoot });
    const t1 = performance.now();
    const second = await ensureCatalog(glue, { database, lakeRoot });
    const t2 = performance.now();
    const names = Object.keys(TABLES).sort();
    expect(first.database).toBe('created');
    expect(Object.keys(first.tables).sort()).toEqual(names);
    expect(new Set(Object.values(first.tables))).toEqual(new Set(['created']));
    expect(second).toEqual({
      database: 'exists',
      tables: Object.fromEntries(names.map((n) => [n, 'unchanged'])),
    });
    const tables = (await glue.send(new GetTablesCommand({ DatabaseName: database }))).TableList ?? [];
    expect(tables.map((t) => t.Name).sort()).toEqual(names);

    const deals = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'deals' }))).Table!;
    expect(deals.StorageDescriptor?.Location).toBe('s3://glue-lake/lake/deals/');
    expect(deals.StorageDescriptor?.SerdeInfo?.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(deals.PartitionKeys?.map((k) => `${k.Name}:${k.Type}`)).toEqual(['dt:string']);
    expect(deals.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type])).toEqual(
      glueColumnsOf(TABLES.deals.record).map((c) => [c.Name, c.Type]),
    );
    const quarantine = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'quarantine' })))
      .Table!;
    expect(quarantine.PartitionKeys?.map((k) => k.Name)).toEqual(['dt', 'step']);
    expect(quarantine.StorageDescriptor?.Columns?.map((c) => c.Name)).not.toContain('step');
    const products = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'products' })))
      .Table!;
    expect(products.PartitionKeys ?? []).toEqual([]);
    console.log(
      `[glue] ensureCatalog: create ${(t1 - t0).toFixed(0)} ms, idempotent re-run ${(t2 - t1).toFixed(0)} ms (${names.length} tables)`,
    );
  });

  it('updates a table whose definition drifted', async () => {
    const drifted = glueTableInput('features', lakeRoot);
    drifted.StorageDescriptor!.Columns = drifted.StorageDescriptor!.Columns!.slice(0, 2);
    await glue.send(new UpdateTableCommand({ DatabaseName: database, TableInput: drifted }));
    const result = await ensureCatalog(glue, { database, lakeRoot, tables: ['features', 'deals'] });
    expect(result.tables).toEqual({ features: 'updated', deals: 'unchanged' });
    const features = (await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'features' })))
      .Table!;
    expect(features.StorageDescriptor?.Columns).toHaveLength(glueColumnsOf(TABLES.features.record).length);
  });

  it('adds the partitions of a run; adding them again is a no-op', async () => {
    const specs = partitionsOfJobs(['cleanup', 'enrichment', 'price_trends', 'features'], '2026-01-02');
    const partitions = specs.map((p) => partitionInputOf(p, lakeRoot));
    const first = await addPartitions(glue, { database }, partitions);
    const again = await addPartitions(glue, { database }, partitions);
    expect(first).toEqual({ created: 6, existed: 0 });
    expect(again).toEqual({ created: 0, existed: 6 });
    const next = await addPartitions(glue, { database }, [
      partitionInputOf({ table: 'deals', date: '2026-01-03' }, lakeRoot),
    ]);
    expect(next).toEqual({ created: 1, existed: 0 });
    const deals =
      (await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: 'deals' })))
        .Partitions ?? [];
    expect(deals.map((p) => [p.Values, p.StorageDescriptor?.Location]).sort()).toEqual([
      [['2026-01-02'], 's3://glue-lake/lake/deals/dt=2026-01-02/'],
      [['2026-01-03'], 's3://glue-lake/lake/deals/dt=2026-01-03/'],
    ]);
    const q =
      (await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: 'quarantine' })))
        .Partitions ?? [];
    expect(q.map((p) => [p.Values, p.StorageDescriptor?.Location])).toEqual([
      [['2026-01-02', 'cleanup'], 's3://glue-lake/lake/quarantine/dt=2026-01-02/step=cleanup/'],
    ]);
  });
});
