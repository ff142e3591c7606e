import { describe, expect, it } from 'vitest';
import { TABLES, type TableName } from '../../core/lake.ts';
import { glueColumnsOf } from '../../schemas/index.ts';
import {
  catalogRequests,
  glueTableInput,
  partitionInputOf,
  partitionRequests,
  sameTable,
} from './catalog.ts';

describe('Glue table and partition inputs', () => {
  it('one external Parquet table per lake table, columns from schemas/, partition keys not repeated', () => {
    for (const name of Object.keys(TABLES) as TableName[]) {
      const t = glueTableInput(name, 's3://b/lake/');
      const keys = (t.PartitionKeys ?? []).map((k) => k.Name);
      expect(keys).toEqual([
        ...(TABLES[name].partitioned ? ['dt'] : []),
        ...('subpartition' in TABLES[name] ? ['step'] : []),
      ]);
      expect(t.StorageDescriptor?.Location).toBe(`s3://b/lake/${TABLES[name].path}/`);
      expect(t.StorageDescriptor?.Columns?.map((c) => c.Name)).toEqual(
        glueColumnsOf(TABLES[name].record)
          .map((c) => c.Name)
          .filter((c) => !keys.includes(c)),
      );
    }
  });

  it('sameTable ignores what Glue adds, sees what we own', () => {
    const want = glueTableInput('deals', 's3://b/lake');
    const fromGlue = { ...want, CreateTime: new Date(), Parameters: { ...want.Parameters, numRows: '7' } };
    expect(sameTable(fromGlue, want)).toBe(true);
    const moved = glueTableInput('deals', 's3://other/lake');
    expect(sameTable(moved, want)).toBe(false);
  });

  it('partitions: values and locations; batches of 100; sub-partition required', () => {
    const p = partitionInputOf({ table: 'quarantine', date: '2026-02-03', sub: 'cleanup' }, 's3://b/lake');
    expect(p.input.Values).toEqual(['2026-02-03', 'cleanup']);
    expect(p.input.StorageDescriptor?.Location).toBe('s3://b/lake/quarantine/dt=2026-02-03/step=cleanup/');
    expect(() => partitionInputOf({ table: 'quarantine', date: '2026-02-03' }, 's3://b/lake')).toThrow(
      /step/,
    );
    expect(() => partitionInputOf({ table: 'products', date: '2026-02-03' }, 's3://b/lake')).toThrow(
      /not partitioned/,
    );
    expect(() => partitionInputOf({ table: 'deals', date: '2026-02-30' }, 's3://b/lake')).toThrow(
      /calendar date/,
    );
    const many = Array.from({ length: 250 }, (_, i) =>
      partitionInputOf(
        { table: 'deals', date: new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10) },
        's3://b/l',
      ),
    );
    const reqs = partitionRequests({ database: 'db' }, many);
    expect(reqs.map((r) => (r.input.PartitionInputList as unknown[]).length)).toEqual([100, 100, 50]);
    expect(catalogRequests({ database: 'db', lakeRoot: 's3://b/l' })).toHaveLength(
      2 + 3 * Object.keys(TABLES).length,
    );
  });
});
