import { DealFinderError } from '../core/errors.ts';
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

/** Validates `value` against the record schema and renders the message value (JSON). */
export function encode<D extends RecordDef>(def: D, value: RecordOf<D>): string {
  const v = validate(def, value);
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
  const v = validate(def, parsed);
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
