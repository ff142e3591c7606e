import { describe, expect, it } from 'vitest';
import type { FieldSpec, RecordDef } from '../field.ts';
import { RawDeal, RECORDS } from '../records.ts';
import { STREAM_RECORDS } from '../streaming.ts';
import { ProductVector, VectorQuarantineRecord } from '../vectors.ts';
import { compiledValidatorOf } from './compiled.ts';
import { validate, validateWithZod } from './validation.ts';

/** A value every check of the spec accepts. */
function validValue(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'string':
      return spec.oneOf ? spec.oneOf[0] : 'x';
    case 'int32':
    case 'int64':
    case 'float64': {
      let v = spec.min ?? 1;
      if (spec.gtZero && v <= 0) v = 1;
      return spec.max !== undefined ? Math.min(v, spec.max) : v;
    }
    case 'boolean':
      return true;
    case 'timestamp':
      return '2026-11-23T10:00:00.000Z';
    case 'date':
      return '2026-11-23';
    case 'vector':
      return Array.from({ length: spec.dimension ?? 2 }, () => 0);
  }
}

/** Values around the edges of every check, valid and invalid. */
function probes(spec: FieldSpec): unknown[] {
  const common = [
    null,
    undefined,
    '',
    'x',
    0,
    -1,
    1,
    1.5,
    2 ** 53,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    {},
    [],
  ];
  switch (spec.kind) {
    case 'string':
      return [
        ...common,
        ...(spec.oneOf ?? []),
        'not-in-the-list',
        ...(spec.maxLength !== undefined ? ['y'.repeat(spec.maxLength), 'y'.repeat(spec.maxLength + 1)] : []),
      ];
    case 'int32':
    case 'int64':
    case 'float64':
      return [
        ...common,
        ...[spec.min, spec.max].flatMap((b) => (b === undefined ? [] : [b - 1, b - 0.5, b, b + 0.5, b + 1])),
        0.0001,
        -0.0001,
        1e300,
      ];
    case 'timestamp':
      return [
        ...common,
        '2026-11-23T10:00:00.000Z',
        '2024-02-29T23:59:59.999Z',
        '2026-02-29T10:00:00.000Z',
        '2026-04-31T10:00:00.000Z',
        '2026-13-01T10:00:00.000Z',
        '2026-11-23T24:00:00.000Z',
        '2026-11-23T10:60:00.000Z',
        '2026-11-23T10:00:60.000Z',
        '2026-11-23T10:00:00Z',
        '2026-11-23T10:00:00.5Z',
        '2026-11-23T10:00:00.000+02:00',
        '2026-11-23 10:00:00.000Z',
        '2026-11-23T10:00:00.000',
        '0000-01-01T00:00:00.000Z',
        '2026-11-2ST10:00:00.000Z',
      ];
    case 'date':
      return [
        ...common,
        '2026-11-23',
        '2024-02-29',
        '2026-02-29',
        '2026-00-10',
        '2026-1-01',
        '2026-11-23T00:00:00Z',
      ];
    default:
      return common;
  }
}

/** Every record of the platform: each one's validate() must agree with the zod reference. */
const DEFS: RecordDef[] = [
  ...new Set<RecordDef>([
    ...Object.values(RECORDS),
    ...Object.values(STREAM_RECORDS),
    ProductVector,
    VectorQuarantineRecord,
  ]),
];

describe('compiled record validators (the fast path of validate)', () => {
  it('cover every record without a vector field', () => {
    for (const def of DEFS)
      expect(compiledValidatorOf(def) === null, def.name).toBe(
        Object.values(def.fields).some((f) => f.kind === 'vector'),
      );
  });

  it('agree with the zod validator on every single-field edge case, and reject unknown keys', () => {
    let checked = 0;
    for (const def of DEFS) {
      const base = Object.fromEntries(Object.entries(def.fields).map(([n, spec]) => [n, validValue(spec)]));
      expect(validateWithZod(def, base).ok, `${def.name} base record`).toBe(true);
      const variants: Record<string, unknown>[] = [base, { ...base, unexpected: 1 }];
      for (const [name, spec] of Object.entries(def.fields)) {
        for (const v of probes(spec)) variants.push({ ...base, [name]: v });
        const { [name]: _, ...without } = base;
        variants.push(without);
      }
      for (const value of variants) {
        const reference = validateWithZod(def, value);
        const fast = validate(def, value);
        expect(fast.ok, `${def.name} ${JSON.stringify(value)}`).toBe(reference.ok);
        if (fast.ok && reference.ok) expect(JSON.stringify(fast.value)).toBe(JSON.stringify(reference.value));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('does not accept non-objects', () => {
    for (const value of [null, undefined, 'x', 1, [], [1]]) expect(validate(RawDeal, value).ok).toBe(false);
  });
});
