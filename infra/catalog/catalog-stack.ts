/**
 * The Glue Data Catalog: the database and one external Parquet table per lake table. The table
 * definitions are the runtime's own (pipelines/glue/catalog.ts glueTableInput, columns from
 * schemas/ through glueColumnsOf), so `dealctl catalog` and the deployed catalog cannot disagree;
 * dealctl's create-or-update finds the tables unchanged after a deploy.
 */
import { Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type { Construct } from 'constructs';
import { TABLES, type TableName } from '../../core/lake.ts';
import { glueDatabaseInput, glueTableInput } from '../../pipelines/glue/catalog.ts';
import type { CatalogStackProps } from './catalog-stack-props.ts';

export class CatalogStack extends Stack {
  readonly database: glue.CfnDatabase;
  readonly tables: Readonly<Record<TableName, glue.CfnTable>>;

  constructor(scope: Construct, id: string, props: CatalogStackProps) {
    super(scope, id, props);
    const target = { database: props.config.glueDatabase, lakeRoot: props.lakeRoot };
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: this.account,
      databaseInput: lowerKeys(glueDatabaseInput(target)) as glue.CfnDatabase.DatabaseInputProperty,
    });
    const tables = {} as Record<TableName, glue.CfnTable>;
    for (const table of Object.keys(TABLES) as TableName[]) {
      const cfn = new glue.CfnTable(this, `Table-${table}`, {
        catalogId: this.account,
        databaseName: props.config.glueDatabase,
        tableInput: lowerKeys(glueTableInput(table, props.lakeRoot)) as glue.CfnTable.TableInputProperty,
      });
      cfn.addResourceDependency(this.database);
      tables[table] = cfn;
    }
    this.tables = tables;
  }
}

/**
 * The SDK's TableInput (PascalCase) as CDK L1 props (camelCase); CDK turns them back into the
 * CloudFormation names. Values inside `Parameters` maps are user keys and stay as they are.
 */
export function lowerKeys(value: unknown, inMap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => lowerKeys(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = inMap ? k : k.charAt(0).toLowerCase() + k.slice(1);
    out[key] = inMap ? v : lowerKeys(v, k === 'Parameters');
  }
  return out;
}
