import type { FieldSpec, RecordDef } from '../field.ts';

/** JSON Schema (draft 2020-12) of a record: the Kafka message schema and the Glue Schema Registry definition. */
export function jsonSchemaOf(def: RecordDef): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(def.fields)) {
    const base = jsonType(spec);
    properties[name] = spec.nullable
      ? { anyOf: [base, { type: 'null' }], description: spec.description }
      : { ...base, description: spec.description };
    if (!spec.nullable) required.push(name);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `urn:dealfinder:${def.name}`,
    title: def.name,
    description: def.description,
    type: 'object',
    additionalProperties: false,
    properties,
    required,
  };
}

function jsonType(spec: FieldSpec): Record<string, unknown> {
  switch (spec.kind) {
    case 'string':
      return spec.oneOf
        ? { type: 'string', enum: [...spec.oneOf] }
        : { type: 'string', ...(spec.maxLength ? { maxLength: spec.maxLength } : {}) };
    case 'int32':
    case 'int64':
      return { type: 'integer', ...(spec.min !== undefined ? { minimum: spec.min } : {}) };
    case 'float64':
      return {
        type: 'number',
        ...(spec.gtZero ? { exclusiveMinimum: 0 } : {}),
        ...(spec.min !== undefined ? { minimum: spec.min } : {}),
        ...(spec.max !== undefined ? { maximum: spec.max } : {}),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'timestamp':
      return { type: 'string', format: 'date-time' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'vector':
      return { type: 'array', items: { type: 'number' }, minItems: spec.dimension, maxItems: spec.dimension };
  }
}

/** OpenSearch index mapping properties of a record. Vectors become k-NN fields. */
export function openSearchMappingOf(
  def: RecordDef,
  vector: { engine: 'lucene' | 'faiss' | 'nmslib'; spaceType: string } = {
    engine: 'lucene',
    spaceType: 'l2',
  },
): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(def.fields)) {
    switch (spec.kind) {
      case 'string':
        properties[name] = spec.text
          ? { type: 'text', fields: { raw: { type: 'keyword', ignore_above: 256 } } }
          : { type: 'keyword' };
        break;
      case 'int32':
        properties[name] = { type: 'integer' };
        break;
      case 'int64':
        properties[name] = { type: 'long' };
        break;
      case 'float64':
        properties[name] = { type: 'double' };
        break;
      case 'boolean':
        properties[name] = { type: 'boolean' };
        break;
      case 'timestamp':
        properties[name] = { type: 'date', format: 'strict_date_optional_time' };
        break;
      case 'date':
        properties[name] = { type: 'date', format: 'strict_date' };
        break;
      case 'vector':
        properties[name] = {
          type: 'knn_vector',
          dimension: spec.dimension,
          method: { name: 'hnsw', engine: vector.engine, space_type: vector.spaceType },
        };
        break;
    }
  }
  return { dynamic: 'strict', properties };
}

/** Glue Data Catalog columns (Hive types) of a record. */
export function glueColumnsOf(def: RecordDef): { Name: string; Type: string; Comment: string }[] {
  const hive: Record<FieldSpec['kind'], string> = {
    string: 'string',
    int32: 'int',
    int64: 'bigint',
    float64: 'double',
    boolean: 'boolean',
    timestamp: 'timestamp',
    date: 'date',
    vector: 'array<float>',
  };
  return Object.entries(def.fields).map(([name, spec]) => ({
    Name: name,
    Type: hive[spec.kind],
    Comment: spec.description.slice(0, 255),
  }));
}
