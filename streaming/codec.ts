import { DealFinderError } from '../core/errors.ts';
import type { FieldSpec } from '../schemas/field.ts';
import { type RecordDef, type RecordOf, validate } from '../schemas/index.ts';
import type { DeadLetterCode } from '../schemas/streaming.ts';

/** A message value the stage cannot use, with the dead-letter reason. */
export interface Rejected {
  readonly ok: false;
  readonly code: DeadLetterCode;
  readonly reason: string;
}
export type Decoded<T> = { readonly ok: true; readonly value: T } | Rejected;

/** Thrown when a stage is about to produce a record that breaks its topic's schema (a bug, never data). */
export class SchemaViolationOnProduce extends DealFinderError<{
  readonly record: string;
  readonly issues: string;
}> {
  constructor(
    readonly record: string,
    readonly issues: string,
  ) {
    super('stream-schema-violation', `refusing to produce an invalid ${record} record: ${issues}`, {
      category: 'internal',
      hint: 'a stage built a record its topic schema rejects: this is a bug, please report it with the message',
      details: { record, issues },
    });
  }
}

type Check = (v: unknown) => boolean;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** `YYYY-MM-DD` naming a real calendar day (year 0001–9999). */
function isIsoDay(s: string): boolean {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 7);
  const d = digits(s, 8, 10);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 && leap ? 29 : DAYS[m - 1]!);
}

/** The canonical `Date.toISOString()` form: `YYYY-MM-DDTHH:MM:SS.mmmZ`, every part in range. */
function isCanonicalIsoTimestamp(s: string): boolean {
  return (
    s.length === 24 &&
    isIsoDay(s) &&
    s.charCodeAt(10) === 84 && // T
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58 &&
    s.charCodeAt(19) === 46 &&
    s.charCodeAt(23) === 90 && // Z
    digits(s, 11, 13) >= 0 &&
    digits(s, 11, 13) < 24 &&
    digits(s, 14, 16) >= 0 &&
    digits(s, 14, 16) < 60 &&
    digits(s, 17, 19) >= 0 &&
    digits(s, 17, 19) < 60 &&
    digits(s, 20, 23) >= 0
  );
}

/**
 * The fast path of one field's check, from the same FieldSpec the zod validator is derived from.
 * It is never more permissive than zod: it accepts only values zod certainly accepts unchanged
 * (timestamps only in the canonical `toISOString()` form, dates only as real calendar days);
 * anything else is left to zod. null for kinds without a fast path.
 */
function fastCheck(spec: FieldSpec): Check | null {
  switch (spec.kind) {
    case 'string': {
      if (spec.oneOf) {
        const allowed = new Set(spec.oneOf);
        return (v) => typeof v === 'string' && allowed.has(v);
      }
      const max = spec.maxLength;
      return max === undefined
        ? (v) => typeof v === 'string'
        : (v) => typeof v === 'string' && v.length <= max;
    }
    case 'int32':
    case 'int64':
    case 'float64': {
      const int = spec.kind !== 'float64';
      const { min, max, gtZero } = spec;
      return (v) =>
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (!int || Number.isSafeInteger(v)) &&
        (min === undefined || v >= min) &&
        (max === undefined || v <= max) &&
        (!gtZero || v > 0);
    }
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'timestamp':
      return (v) => typeof v === 'string' && isCanonicalIsoTimestamp(v);
    case 'date':
      return (v) => typeof v === 'string' && v.length === 10 && isIsoDay(v);
    default:
      return null;
  }
}

type Fast = (value: unknown) => Record<string, unknown> | undefined;
const compiled = new WeakMap<RecordDef, Fast | null>();

/**
 * A validator compiled from the record definition: checks every field and rejects unknown keys
 * (as the strict zod schema does) and returns the record in field order with absent nullable
 * fields as null (as zod does) — or undefined when it cannot vouch for the value, in which case
 * the zod validator decides (and explains). The zod schema stays the reference; this only makes
 * the common case cheap.
 */
function fastValidatorOf(def: RecordDef): Fast | null {
  let fast = compiled.get(def);
  if (fast !== undefined) return fast;
  const fields = Object.entries(def.fields).map(([name, spec]) => ({
    name,
    nullable: spec.nullable,
    check: fastCheck(spec),
  }));
  if (fields.some((f) => f.check === null)) fast = null;
  else {
    const known = new Set(fields.map((f) => f.name));
    fast = (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const o = value as Record<string, unknown>;
      for (const k in o) if (!known.has(k)) return undefined;
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const v = o[f.name];
        if (v === null || v === undefined) {
          if (!f.nullable) return undefined;
          out[f.name] = null;
        } else if (f.check!(v)) out[f.name] = v;
        else return undefined;
      }
      return out;
    };
  }
  compiled.set(def, fast);
  return fast;
}

/** validate(), with the compiled fast path first. */
export function validateRecord<D extends RecordDef>(def: D, value: unknown): ReturnType<typeof validate<D>> {
  const fast = fastValidatorOf(def)?.(value);
  if (fast !== undefined) return { ok: true, value: fast as RecordOf<D> };
  return validate(def, value);
}

/** Validates `value` against the record schema and renders the message value (JSON). */
export function encode<D extends RecordDef>(def: D, value: RecordOf<D>): string {
  const v = validateRecord(def, value);
  if (!v.ok)
    throw new SchemaViolationOnProduce(def.name, v.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return JSON.stringify(v.value);
}

/** Parses and validates one consumed message value; never throws. */
export function decode<D extends RecordDef>(
  def: D,
  value: Buffer | null,
  maxBytes: number,
): Decoded<RecordOf<D>> {
  if (value === null) return { ok: false, code: 'malformed_json', reason: 'empty message (tombstone)' };
  if (value.length > maxBytes)
    return { ok: false, code: 'oversized', reason: `message of ${value.length} bytes exceeds ${maxBytes}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, code: 'malformed_json', reason: `not JSON: ${(error as Error).message}` };
  }
  const v = validateRecord(def, parsed);
  if (!v.ok)
    return {
      ok: false,
      code: 'schema_violation',
      reason: `not a ${def.name} record: ${v.issues
        .slice(0, 5)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    };
  return { ok: true, value: v.value };
}

/** The id-ish field of a message that failed to decode, for the dead letter (best effort). */
export function recordIdOf(value: Buffer | null): string | null {
  if (!value || value.length > 1_048_576) return null;
  try {
    const o = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    const id = o?.deal_id ?? o?.raw_id;
    return typeof id === 'string' ? id.slice(0, 200) : null;
  } catch {
    return null;
  }
}
