import { RawDeal, type RecordDef, sqlTypeOf } from '../schemas/index.ts';

/**
 * The only engine-specific SQL of the platform: a small, named set of scalar macros whose
 * semantics differ between DuckDB and Spark SQL. Job SQL calls these by name; each engine
 * supplies its own body (DuckDB: CREATE MACRO; Spark 3.5 has no SQL functions, so the Spark
 * engine inlines the body at each call, see inlineSparkMacros in jobs/engines/spark/plan.ts).
 *
 * Everything else in jobs/sql must be in the portable subset (see docs/engines.md).
 */
export interface MacroDef {
  readonly name: string;
  readonly params: readonly { name: string; sparkType: string }[];
  readonly sparkReturns: string;
  readonly duckdb: string;
  readonly spark: string;
  readonly why: string;
}

export const MACROS: readonly MacroDef[] = [
  {
    name: 're_replace_all',
    params: [
      { name: 's', sparkType: 'STRING' },
      { name: 'pattern', sparkType: 'STRING' },
      { name: 'replacement', sparkType: 'STRING' },
    ],
    sparkReturns: 'STRING',
    duckdb: "regexp_replace(s, pattern, replacement, 'g')",
    spark: 'regexp_replace(s, pattern, replacement)',
    why: 'DuckDB replaces only the first match unless given the g flag; Spark always replaces all.',
  },
  {
    name: 're_matches',
    params: [
      { name: 's', sparkType: 'STRING' },
      { name: 'pattern', sparkType: 'STRING' },
    ],
    sparkReturns: 'BOOLEAN',
    duckdb: 'regexp_matches(s, pattern)',
    spark: 's RLIKE pattern',
    why: 'No common name for an unanchored regex test.',
  },
  {
    name: 'epoch_seconds',
    params: [{ name: 'ts', sparkType: 'TIMESTAMP_NTZ' }],
    sparkReturns: 'DOUBLE',
    duckdb: 'CAST(epoch_us(ts) AS DOUBLE) / 1000000.0',
    spark: 'CAST(unix_micros(to_utc_timestamp(ts, current_timezone())) AS DOUBLE) / 1000000.0',
    why: 'epoch() vs unix_timestamp(); Spark needs the UTC interpretation of a zone-less timestamp.',
  },
  {
    name: 'days_between',
    params: [
      { name: 'start_date', sparkType: 'DATE' },
      { name: 'end_date', sparkType: 'DATE' },
    ],
    sparkReturns: 'INT',
    duckdb: "CAST(date_diff('day', start_date, end_date) AS INTEGER)",
    spark: 'datediff(end_date, start_date)',
    why: 'datediff argument order and unit argument differ.',
  },
];

export function duckdbMacroStatements(): string[] {
  return MACROS.map(
    (m) => `CREATE OR REPLACE TEMP MACRO ${m.name}(${m.params.map((p) => p.name).join(', ')}) AS ${m.duckdb}`,
  );
}

export function sparkMacroStatements(): string[] {
  return MACROS.map(
    (m) =>
      `CREATE OR REPLACE TEMPORARY FUNCTION ${m.name}(${m.params.map((p) => `${p.name} ${p.sparkType}`).join(', ')}) RETURNS ${m.sparkReturns} RETURN ${m.spark}`,
  );
}

/**
 * `<name>(field, ...)` → the record as a JSON object string, fields in declared order, nulls
 * kept, timestamps as ISO-8601 UTC with microseconds. Derived from the schema, so quarantine
 * rows carry the original record in the same shape on both engines.
 */
function recordJsonMacro(def: RecordDef, name: string): MacroDef {
  const fields = Object.entries(def.fields);
  const duckValue = (f: string, kind: string) =>
    kind === 'timestamp' ? `strftime(${f}, '%Y-%m-%dT%H:%M:%S.%fZ')` : f;
  // Spark SQL has no '' escape inside string literals ('a''b' is 'a' 'b', concatenated): no quoted
  // pattern letters, the T and Z are concatenated instead.
  const sparkValue = (f: string, kind: string) =>
    kind === 'timestamp'
      ? `concat(date_format(${f}, 'yyyy-MM-dd'), 'T', date_format(${f}, 'HH:mm:ss.SSSSSS'), 'Z')`
      : f;
  return {
    name,
    params: fields.map(([f, spec]) => ({ name: f, sparkType: sqlTypeOf(spec, 'spark') })),
    sparkReturns: 'STRING',
    duckdb: `CAST(to_json(struct_pack(${fields.map(([f, s]) => `${f} := ${duckValue(f, s.kind)}`).join(', ')})) AS VARCHAR)`,
    spark: `to_json(named_struct(${fields.map(([f, s]) => `'${f}', ${sparkValue(f, s.kind)}`).join(', ')}), map('ignoreNullFields', 'false'))`,
    why: 'struct construction and JSON rendering differ between engines.',
  };
}

(MACROS as MacroDef[]).push(recordJsonMacro(RawDeal, 'raw_deal_json'));
