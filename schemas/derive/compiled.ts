import type { FieldSpec, RecordDef } from '../field.ts';

/**
 * The compiled fast path of record validation, derived from the same FieldSpecs as the zod
 * validator (validation.ts). It is never more permissive than zod: it accepts only values zod
 * certainly accepts unchanged (timestamps only in the canonical `toISOString()` form, dates only
 * as real calendar days) and answers `undefined` for anything else, so zod decides (and explains).
 * It exists because the streaming stages validate every message on produce and on consume, and
 * a plain loop of typeof checks is several times cheaper than zod's parse.
 */

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
  return d <= (m === 2 && leap ? 29 : (DAYS[m - 1] ?? 0));
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

/** One field's check; null for kinds without a fast path (vectors: zod checks them). */
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
    case 'vector':
      return null;
  }
}

/**
 * Checks a value and returns the record in field order with absent nullable fields as null (as
 * the zod validator does), or undefined when it cannot vouch for the value.
 */
export type CompiledValidator = (value: unknown) => Record<string, unknown> | undefined;

const compiled = new WeakMap<RecordDef, CompiledValidator | null>();

/**
 * The compiled validator of a record definition: checks every field and rejects unknown keys (as
 * the strict zod schema does). null when a field has no fast path (then zod validates every value).
 */
export function compiledValidatorOf(def: RecordDef): CompiledValidator | null {
  let fast = compiled.get(def);
  if (fast !== undefined) return fast;
  const fields: { name: string; nullable: boolean; check: Check }[] = [];
  let complete = true;
  for (const [name, spec] of Object.entries(def.fields)) {
    const check = fastCheck(spec);
    if (check === null) complete = false;
    else fields.push({ name, nullable: spec.nullable, check });
  }
  if (!complete) fast = null;
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
        } else if (f.check(v)) out[f.name] = v;
        else return undefined;
      }
      return out;
    };
  }
  compiled.set(def, fast);
  return fast;
}
