import { z } from 'zod';
import type { FieldSpec, RecordDef, RecordOf } from '../field.ts';
import { compiledValidatorOf } from './compiled.ts';

/**
 * Record validation, derived from the FieldSpecs: the one validator of the platform (batch
 * ingest, the run ledger, the migration quarantine and every Kafka message of streaming/).
 * The zod schema (validatorOf) is the reference and explains every rejection; validate() runs a
 * compiled check (compiled.ts) first and asks zod only about values it cannot vouch for.
 */

const ISO_TIMESTAMP = z.iso.datetime({ offset: true, local: false });
const ISO_DATE = z.iso.date();

function fieldSchema(spec: FieldSpec): z.ZodType {
  let schema: z.ZodType;
  switch (spec.kind) {
    case 'string': {
      let s = z.string();
      if (spec.maxLength !== undefined) s = s.max(spec.maxLength);
      schema = spec.oneOf ? z.enum(spec.oneOf as [string, ...string[]]) : s;
      break;
    }
    case 'int32':
    case 'int64':
    case 'float64': {
      let n = spec.kind === 'float64' ? z.number() : z.number().int();
      if (spec.kind === 'float64') n = n.refine(Number.isFinite, 'must be finite');
      if (spec.min !== undefined) n = n.min(spec.min);
      if (spec.max !== undefined) n = n.max(spec.max);
      if (spec.gtZero) n = n.gt(0);
      schema = n;
      break;
    }
    case 'boolean':
      schema = z.boolean();
      break;
    case 'timestamp':
      schema = ISO_TIMESTAMP;
      break;
    case 'date':
      schema = ISO_DATE;
      break;
    case 'vector': {
      let v = z.array(z.number().refine(Number.isFinite, 'must be finite'));
      if (spec.dimension !== undefined) v = v.length(spec.dimension);
      schema = v;
      break;
    }
  }
  return spec.nullable
    ? schema
        .nullable()
        .optional()
        .transform((v) => v ?? null)
    : schema;
}

const cache = new WeakMap<RecordDef, z.ZodType>();

/** The runtime validator of a record definition (strict: unknown keys are rejected). */
export function validatorOf<D extends RecordDef>(def: D): z.ZodType<RecordOf<D>> {
  let schema = cache.get(def);
  if (!schema) {
    const shape: Record<string, z.ZodType> = {};
    for (const [name, spec] of Object.entries(def.fields)) shape[name] = fieldSchema(spec);
    schema = z.strictObject(shape);
    cache.set(def, schema);
  }
  return schema as z.ZodType<RecordOf<D>>;
}

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/**
 * Validates one record; never throws. Valid values come back in field order with absent
 * nullable fields as null.
 */
export function validate<D extends RecordDef>(def: D, value: unknown): Validated<RecordOf<D>> {
  const fast = compiledValidatorOf(def)?.(value);
  if (fast !== undefined) return { ok: true, value: fast as RecordOf<D> };
  return validateWithZod(def, value);
}

/** validate() without the compiled fast path: the reference it is tested against. */
export function validateWithZod<D extends RecordDef>(def: D, value: unknown): Validated<RecordOf<D>> {
  const result = validatorOf(def).safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({ path: i.path.join('.') || '(record)', message: i.message })),
  };
}
