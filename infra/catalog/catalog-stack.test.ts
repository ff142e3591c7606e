import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLES, type TableName } from '../../core/lake.ts';
import { glueTableInput } from '../../pipelines/glue/catalog.ts';
import { glueColumnsOf } from '../../schemas/index.ts';
import { buildApp, lakeRootOf } from '../app.ts';

const { stacks } = buildApp({ environments: ['prod'] });
const prod = stacks.prod;
if (!prod) throw new Error('no prod stacks');
const template = Template.fromStack(prod.catalog);
const lakeRoot = lakeRootOf(prod.config);

interface GlueTableProps {
  DatabaseName: string;
  TableInput: {
    Name: string;
    PartitionKeys?: { Name: string; Type: string }[];
    StorageDescriptor: { Columns: { Name: string; Type: string; Comment?: string }[]; Location: string };
  };
}

const tables = Object.values(template.findResources('AWS::Glue::Table')).map(
  (r) => r.Properties as GlueTableProps,
);

describe('catalog stack', () => {
  it('declares exactly one Glue table per lake table, in the configured database', () => {
    expect(tables.map((t) => t.TableInput.Name).sort()).toEqual(Object.keys(TABLES).sort());
    for (const t of tables) expect(t.DatabaseName).toBe('deal_finder');
  });

  it('has the Glue columns schemas/ derives (glueColumnsOf), partition keys excluded', () => {
    for (const t of tables) {
      const name = t.TableInput.Name as TableName;
      const keys = new Set((t.TableInput.PartitionKeys ?? []).map((k) => k.Name));
      const derived = glueColumnsOf(TABLES[name].record).filter((c) => !keys.has(c.Name));
      expect(t.TableInput.StorageDescriptor.Columns).toEqual(derived);
    }
  });

  it('equals the TableInput dealctl catalog writes, so a deploy leaves nothing for it to update', () => {
    for (const t of tables) {
      const wanted = glueTableInput(t.TableInput.Name as TableName, lakeRoot);
      expect(t.TableInput).toEqual(wanted);
    }
  });

  it('locates each table under the lake bucket and partitions by dt (and step for quarantine)', () => {
    const quarantine = tables.find((t) => t.TableInput.Name === 'quarantine');
    expect(quarantine?.TableInput.PartitionKeys?.map((k) => k.Name)).toEqual(['dt', 'step']);
    const deals = tables.find((t) => t.TableInput.Name === 'deals');
    expect(deals?.TableInput.StorageDescriptor.Location).toBe(
      's3://deal-finder-prod-lake/deal-finder/deals/',
    );
  });
});
