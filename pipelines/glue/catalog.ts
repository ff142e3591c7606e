/**
 * Glue Data Catalog for the lake: one database, one external Parquet table per lake table
 * (core/lake.ts TABLES) with columns from schemas/ (glueColumnsOf), partitioned by dt (and
 * step for quarantine), located under the lake root. Everything is create-or-update and safe
 * to re-run: tables are only updated when their definition changed (UpdateTable would add a
 * table version on every run otherwise), partitions that exist are left alone.
 */
import {
  AlreadyExistsException,
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetTableCommand,
  type GlueClient,
  type PartitionInput,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { type AwsRequest, awsErrorName } from '../../core/aws.ts';
import { AwsRequestError } from '../../core/errors.ts';
import { assertDate, TABLES, type TableDef, type TableName } from '../../core/lake.ts';
import { glueColumnsOf } from '../../schemas/index.ts';

export const PARQUET_FORMAT = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
} as const;

export interface CatalogTarget {
  readonly database: string;
  /** Lake root, s3://bucket/prefix (no trailing slash needed). */
  readonly lakeRoot: string;
  readonly catalogId?: string | undefined;
  /** Default: every table of TABLES. */
  readonly tables?: readonly TableName[];
}

function root(lakeRoot: string): string {
  return lakeRoot.replace(/\/+$/, '');
}

export function tableLocation(lakeRoot: string, table: TableName): string {
  return `${root(lakeRoot)}/${TABLES[table].path}/`;
}

/** Partition keys of a table: dt (string, YYYY-MM-DD) and the sub-partition when it has one. */
export function partitionKeysOf(table: TableName): { Name: string; Type: string; Comment: string }[] {
  const def: TableDef = TABLES[table];
  const keys: { Name: string; Type: string; Comment: string }[] = [];
  if (def.partitioned) keys.push({ Name: 'dt', Type: 'string', Comment: 'Data date, YYYY-MM-DD (UTC).' });
  if (def.subpartition)
    keys.push({ Name: def.subpartition, Type: 'string', Comment: 'Job or stage that wrote the partition.' });
  return keys;
}

export function glueDatabaseInput(target: CatalogTarget) {
  return {
    Name: target.database,
    Description: 'Deal Finder data lake (tables derived from schemas/)',
    LocationUri: `${root(target.lakeRoot)}/`,
  };
}

/**
 * The TableInput of one lake table. Partition keys are not repeated among the columns (Hive and
 * Athena reject a column that is also a partition key; quarantine's `step` column equals its
 * step= partition value, so the path provides it).
 */
export function glueTableInput(table: TableName, lakeRoot: string): TableInput {
  const def: TableDef = TABLES[table];
  const partitionKeys = partitionKeysOf(table);
  const keyNames = new Set(partitionKeys.map((k) => k.Name));
  return {
    Name: table,
    Description: def.record.description,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'dealfinder.record': def.record.name },
    PartitionKeys: partitionKeys,
    StorageDescriptor: {
      Columns: glueColumnsOf(def.record).filter((c) => !keyNames.has(c.Name)),
      Location: tableLocation(lakeRoot, table),
      ...PARQUET_FORMAT,
      Compressed: false,
      StoredAsSubDirectories: false,
    },
  };
}

function tablesOf(target: CatalogTarget): TableName[] {
  return [...(target.tables ?? (Object.keys(TABLES) as TableName[]))];
}

/** What ensureCatalog sends, for --dry-run. */
export function catalogRequests(target: CatalogTarget): AwsRequest[] {
  const cat = target.catalogId ? { CatalogId: target.catalogId } : {};
  const out: AwsRequest[] = [
    { service: 'glue', command: 'GetDatabase', input: { ...cat, Name: target.database } },
    {
      service: 'glue',
      command: 'CreateDatabase',
      input: { ...cat, DatabaseInput: glueDatabaseInput(target) },
      when: 'only if GetDatabase returned EntityNotFoundException',
    },
  ];
  for (const table of tablesOf(target)) {
    const TableInput = glueTableInput(table, target.lakeRoot);
    out.push(
      { service: 'glue', command: 'GetTable', input: { ...cat, DatabaseName: target.database, Name: table } },
      {
        service: 'glue',
        command: 'CreateTable',
        input: { ...cat, DatabaseName: target.database, TableInput },
        when: 'only if GetTable returned EntityNotFoundException',
      },
      {
        service: 'glue',
        command: 'UpdateTable',
        input: { ...cat, DatabaseName: target.database, TableInput },
        when: 'only if the existing table differs (columns, partition keys, location, format)',
      },
    );
  }
  return out;
}

export type TableAction = 'created' | 'updated' | 'unchanged';

export interface CatalogResult {
  readonly database: 'created' | 'exists';
  readonly tables: Record<string, TableAction>;
}

function isNotFound(error: unknown): boolean {
  return awsErrorName(error) === 'EntityNotFoundException';
}

/** Creates the database and tables, or updates tables whose definition changed. Idempotent. */
export async function ensureCatalog(glue: GlueClient, target: CatalogTarget): Promise<CatalogResult> {
  const cat = target.catalogId ? { CatalogId: target.catalogId } : {};
  let database: CatalogResult['database'] = 'exists';
  try {
    await glue.send(new GetDatabaseCommand({ ...cat, Name: target.database }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await glue.send(new CreateDatabaseCommand({ ...cat, DatabaseInput: glueDatabaseInput(target) }));
      database = 'created';
    } catch (e) {
      if (!(e instanceof AlreadyExistsException)) throw e; // a concurrent run created it
    }
  }
  const tables: Record<string, TableAction> = {};
  for (const table of tablesOf(target)) {
    const input = glueTableInput(table, target.lakeRoot);
    let existing: TableInput | undefined;
    try {
      const got = await glue.send(
        new GetTableCommand({ ...cat, DatabaseName: target.database, Name: table }),
      );
      existing = got.Table as TableInput | undefined;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!existing) {
      try {
        await glue.send(new CreateTableCommand({ ...cat, DatabaseName: target.database, TableInput: input }));
        tables[table] = 'created';
        continue;
      } catch (e) {
        if (!(e instanceof AlreadyExistsException)) throw e;
      }
    } else if (sameTable(existing, input)) {
      tables[table] = 'unchanged';
      continue;
    }
    await glue.send(new UpdateTableCommand({ ...cat, DatabaseName: target.database, TableInput: input }));
    tables[table] = 'updated';
  }
  return { database, tables };
}

/** The parts of a table definition we own; anything else (statistics, crawler fields) is ignored. */
function tableShape(t: TableInput): unknown {
  const sd = t.StorageDescriptor ?? {};
  const cols = (c: { Name?: string; Type?: string; Comment?: string }[] | undefined) =>
    (c ?? []).map((x) => [x.Name, x.Type?.toLowerCase(), x.Comment ?? '']);
  return {
    type: t.TableType,
    keys: cols(t.PartitionKeys),
    columns: cols(sd.Columns),
    location: sd.Location,
    input: sd.InputFormat,
    output: sd.OutputFormat,
    serde: sd.SerdeInfo?.SerializationLibrary,
    classification: t.Parameters?.classification,
  };
}

export function sameTable(existing: TableInput, wanted: TableInput): boolean {
  return JSON.stringify(tableShape(existing)) === JSON.stringify(tableShape(wanted));
}

export interface PartitionSpec {
  readonly table: TableName;
  readonly date: string;
  /** Sub-partition value (quarantine: the step). */
  readonly sub?: string | undefined;
}

export interface PlannedPartition {
  readonly table: TableName;
  readonly input: PartitionInput;
}

/** PartitionInput of one written partition (location under the table's location). */
export function partitionInputOf(spec: PartitionSpec, lakeRoot: string): PlannedPartition {
  const def: TableDef = TABLES[spec.table];
  if (!def.partitioned) throw new Error(`table ${spec.table} is not partitioned`);
  const values = [assertDate(spec.date)];
  let location = `${tableLocation(lakeRoot, spec.table)}dt=${spec.date}/`;
  if (def.subpartition) {
    if (!spec.sub) throw new Error(`table ${spec.table} needs its ${def.subpartition} partition value`);
    values.push(spec.sub);
    location += `${def.subpartition}=${spec.sub}/`;
  }
  const table = glueTableInput(spec.table, lakeRoot);
  return {
    table: spec.table,
    input: {
      Values: values,
      StorageDescriptor: { ...table.StorageDescriptor, Location: location },
      Parameters: {},
    },
  };
}

const BATCH = 100; // BatchCreatePartition's limit per call

function groupByTable(partitions: readonly PlannedPartition[]): Map<TableName, PartitionInput[]> {
  const byTable = new Map<TableName, PartitionInput[]>();
  for (const p of partitions) byTable.set(p.table, [...(byTable.get(p.table) ?? []), p.input]);
  return byTable;
}

export function partitionRequests(
  target: Pick<CatalogTarget, 'database' | 'catalogId'>,
  partitions: readonly PlannedPartition[],
): AwsRequest[] {
  const out: AwsRequest[] = [];
  for (const [table, inputs] of groupByTable(partitions)) {
    for (let i = 0; i < inputs.length; i += BATCH) {
      out.push({
        service: 'glue',
        command: 'BatchCreatePartition',
        input: {
          ...(target.catalogId ? { CatalogId: target.catalogId } : {}),
          DatabaseName: target.database,
          TableName: table,
          PartitionInputList: inputs.slice(i, i + BATCH),
        },
        when: 'after all steps COMPLETED; AlreadyExistsException per partition is ignored',
      });
    }
  }
  return out;
}

export interface AddPartitionsResult {
  readonly created: number;
  readonly existed: number;
}

/** BatchCreatePartition in batches of 100; partitions that already exist count as done. */
export async function addPartitions(
  glue: GlueClient,
  target: Pick<CatalogTarget, 'database' | 'catalogId'>,
  partitions: readonly PlannedPartition[],
): Promise<AddPartitionsResult> {
  let created = 0;
  let existed = 0;
  for (const request of partitionRequests(target, partitions)) {
    const input = request.input as { PartitionInputList: PartitionInput[] } & Record<string, unknown>;
    const res = await glue.send(new BatchCreatePartitionCommand(input as never));
    const errors = res.Errors ?? [];
    const other = errors.filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
    if (other.length > 0) {
      const first = other[0]!;
      throw new AwsRequestError(
        `Glue BatchCreatePartition on ${String(input.TableName)}: ${other.length} partition(s) failed, first ${JSON.stringify(first.PartitionValues)}: ${first.ErrorDetail?.ErrorCode} ${first.ErrorDetail?.ErrorMessage ?? ''}`,
        { details: { errors: other } },
      );
    }
    existed += errors.length;
    created += input.PartitionInputList.length - errors.length;
  }
  return { created, existed };
}
