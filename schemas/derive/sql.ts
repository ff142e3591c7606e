import type { FieldSpec, RecordDef } from '../field.ts';

export type SqlDialect = 'duckdb' | 'spark';

const TYPES: Record<SqlDialect, Record<FieldSpec['kind'], (spec: FieldSpec) => string>> = {
  duckdb: {
    string: () => 'VARCHAR',
    int32: () => 'INTEGER',
    int64: () => 'BIGINT',
    float64: () => 'DOUBLE',
    boolean: () => 'BOOLEAN',
    // Stored as UTC instants; TIMESTAMP WITH TIME ZONE would make DuckDB render in the session zone.
    timestamp: () => 'TIMESTAMP',
    date: () => 'DATE',
    vector: (s) => `FLOAT[${s.dimension ?? ''}]`,
  },
  spark: {
    string: () => 'STRING',
    int32: () => 'INT',
    int64: () => 'BIGINT',
    float64: () => 'DOUBLE',
    boolean: () => 'BOOLEAN',
    // TIMESTAMP_NTZ matches DuckDB's TIMESTAMP (no zone conversion on read or write).
    timestamp: () => 'TIMESTAMP_NTZ',
    date: () => 'DATE',
    vector: () => 'ARRAY<FLOAT>',
  },
};

export function sqlTypeOf(spec: FieldSpec, dialect: SqlDialect): string {
  return TYPES[dialect][spec.kind](spec);
}

/** `name TYPE, ...` column list. */
export function sqlColumnsOf(def: RecordDef, dialect: SqlDialect): string {
  return Object.entries(def.fields)
    .map(
      ([name, spec]) =>
        `${name} ${sqlTypeOf(spec, dialect)}${spec.nullable || dialect === 'spark' ? '' : ' NOT NULL'}`,
    )
    .join(',\n  ');
}

/** CREATE TABLE statement for a record definition. */
export function sqlDdlOf(def: RecordDef, dialect: SqlDialect, tableName: string = def.name): string {
  const using = dialect === 'spark' ? '\nUSING parquet' : '';
  return `CREATE TABLE IF NOT EXISTS ${tableName} (\n  ${sqlColumnsOf(def, dialect)}\n)${using}`;
}

/**
 * A SELECT list that casts every column of `def` to its declared type, in declared order.
 * Jobs end with it so both engines write byte-identical Parquet schemas.
 */
export function sqlProjectionOf(def: RecordDef, dialect: SqlDialect, source = ''): string {
  const prefix = source ? `${source}.` : '';
  return Object.entries(def.fields)
    .map(([name, spec]) => `CAST(${prefix}${name} AS ${sqlTypeOf(spec, dialect)}) AS ${name}`)
    .join(',\n  ');
}
