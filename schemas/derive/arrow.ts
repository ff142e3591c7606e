import {
  Bool,
  type DataType,
  DateDay,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Schema,
  TimestampMicrosecond,
  Utf8,
} from 'apache-arrow';
import type { FieldSpec, RecordDef } from '../field.ts';

function arrowType(spec: FieldSpec): DataType {
  switch (spec.kind) {
    case 'string':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'date':
      return new DateDay();
    case 'vector':
      // A vector whose length the schema does not fix (a migration export) is a plain list.
      return spec.dimension === undefined
        ? new List(new Field('item', new Float32(), false))
        : new FixedSizeList(spec.dimension, new Field('item', new Float32(), false));
  }
}

/**
 * The Arrow schema of a record definition: its logical shape for Arrow consumers (declared
 * nullability, timestamps as UTC instants). The lake's Parquet files have the same columns and
 * types but, as DuckDB and Spark write them, every column optional and timestamps not flagged
 * UTC-adjusted (TIMESTAMP / TIMESTAMP_NTZ holding UTC values).
 */
export function arrowSchemaOf(def: RecordDef): Schema {
  return new Schema(
    Object.entries(def.fields).map(([name, spec]) => new Field(name, arrowType(spec), spec.nullable)),
  );
}
