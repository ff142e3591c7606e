/**
 * The record-definition language of the platform. A record is defined once here (see records.ts)
 * and everything else — TypeScript types, runtime validation, Arrow schemas, SQL DDL for DuckDB
 * and Spark, JSON Schema for Kafka messages, OpenSearch mappings, Glue columns — is derived.
 */

/** Logical types. Kept deliberately small so every target (DuckDB, Spark, Arrow, Glue, OpenSearch) has an exact match. */
export type FieldKind =
  | 'string'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'boolean'
  | 'timestamp'
  | 'date'
  | 'vector';

/**
 * One field. `O` is the type of a string field's allowed values: its `oneOf` literals when it has
 * them, which StrictRecordOf uses (a status field is `'running' | 'succeeded' | …` there).
 */
export interface FieldSpec<
  K extends FieldKind = FieldKind,
  N extends boolean = boolean,
  O extends string = string,
> {
  readonly kind: K;
  readonly nullable: N;
  readonly description: string;
  /** Inclusive lower bound for numeric kinds. */
  readonly min?: number;
  /** Exclusive lower bound for numeric kinds (e.g. price > 0). */
  readonly gtZero?: boolean;
  readonly max?: number;
  /** Allowed values for string kinds. */
  readonly oneOf?: readonly O[];
  /** Maximum length for string kinds. */
  readonly maxLength?: number;
  /** Dimension of a vector kind. */
  readonly dimension?: number;
  /** Full-text searchable in OpenSearch (otherwise strings map to keyword). */
  readonly text?: boolean;
}

type Options = Omit<FieldSpec, 'kind' | 'nullable' | 'description' | 'oneOf'>;

interface Nullable<K extends FieldKind, O extends string> {
  /** The same field, allowed to be null/absent. */
  nullable_(): FieldSpec<K, true, O>;
}

function build<K extends FieldKind, O extends string>(
  kind: K,
  description: string,
  options: Options & { oneOf?: readonly O[] },
): FieldSpec<K, false, O> & Nullable<K, O> {
  const spec = { kind, nullable: false as const, description, ...options };
  return Object.assign(spec, {
    nullable_(): FieldSpec<K, true, O> {
      return { ...spec, nullable: true as const };
    },
  });
}

function make<K extends Exclude<FieldKind, 'string'>>(kind: K) {
  return (description: string, options: Options = {}) => build<K, string>(kind, description, options);
}

/** Strings: `oneOf` literals (an `as const` list or an inline array) become the field's TypeScript type. */
function makeString() {
  return <const O extends string = string>(
    description: string,
    options: Options & { oneOf?: readonly O[] } = {},
  ) => build<'string', O>('string', description, options);
}

export const field = {
  string: makeString(),
  int32: make('int32'),
  int64: make('int64'),
  float64: make('float64'),
  boolean: make('boolean'),
  /** UTC instant; ISO-8601 string in TypeScript and JSON, TIMESTAMP (UTC) in SQL. */
  timestamp: make('timestamp'),
  /** Calendar date, 'YYYY-MM-DD'. */
  date: make('date'),
  vector: make('vector'),
};

export type Fields = Record<string, FieldSpec>;

export interface RecordDef<F extends Fields = Fields> {
  /** snake_case name used for tables, topics and index names. */
  readonly name: string;
  readonly description: string;
  readonly fields: F;
  /** Columns that identify a record (used for dedupe, Kafka keys and document ids). */
  readonly key: readonly string[];
}

export function defineRecord<F extends Fields>(
  def: RecordDef<F> & { key: readonly (keyof F & string)[] },
): RecordDef<F> {
  for (const k of def.key) {
    if (!(k in def.fields)) throw new Error(`record ${def.name}: key column ${k} is not a field`);
  }
  return def;
}

type KindToTs<V, O extends string> = {
  string: O;
  int32: number;
  int64: number;
  float64: number;
  boolean: boolean;
  timestamp: string;
  date: string;
  vector: V;
};

type FieldTs<S, V, Strict extends boolean> =
  S extends FieldSpec<infer K, infer N, infer O>
    ? N extends true
      ? KindToTs<V, Strict extends true ? O : string>[K] | null
      : KindToTs<V, Strict extends true ? O : string>[K]
    : never;

/**
 * The TypeScript type of one record of a definition. `V` is how vectors are held: `number[]` in
 * JSON messages and documents (the default), `Float32Array` in batch rows (see RowOf). String
 * fields are `string` even when they have `oneOf` (see StrictRecordOf).
 */
export type RecordOf<D, V = number[]> =
  D extends RecordDef<infer F> ? { -readonly [K in keyof F]: FieldTs<F[K], V, false> } : never;

/** RecordOf, with every `oneOf` string field typed as the union of its allowed values. */
export type StrictRecordOf<D, V = number[]> =
  D extends RecordDef<infer F> ? { -readonly [K in keyof F]: FieldTs<F[K], V, true> } : never;

/** One record as a batch-file row: read-only, vectors as Float32Array (float32 values, bit-exact). */
export type RowOf<D> = Readonly<RecordOf<D, Float32Array>>;

export function columnNames(def: RecordDef): string[] {
  return Object.keys(def.fields);
}
