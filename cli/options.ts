/**
 * The option parsers shared by dealctl's commands. Each throws a UsageError (exit 2) with a
 * hint, so a bad flag is one clear line, never a stack trace.
 */
import { UsageError } from '../core/errors.ts';
import { assertDate } from '../core/lake.ts';

/** A calendar date, YYYY-MM-DD (UTC). */
export function parseDate(value: string): string {
  try {
    return assertDate(value);
  } catch {
    throw new UsageError(`"${value}" is not a date`, 'dates are YYYY-MM-DD (UTC)');
  }
}

/** A whole number ≥ 0 (`1_000_000` allowed). */
export function parseCount(value: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`"${value}" is not a whole number`);
  return n;
}

/** Minutes, > 0 (fractions allowed). */
export function parseMinutes(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`"${value}" is not a number of minutes`);
  return n;
}

/** A parser of numbers ≥ 0 for the flag `what` (named in the message). */
export const nonNegative =
  (what: string) =>
  (value: string): number => {
    const n = Number(value.replaceAll('_', ''));
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`${what}: "${value}" is not a non-negative number`);
    return n;
  };

/** A parser of whole numbers ≥ 0 for the flag `what`. */
export const wholeNumber =
  (what: string) =>
  (value: string): number => {
    const n = nonNegative(what)(value);
    if (!Number.isInteger(n)) throw new UsageError(`${what}: "${value}" is not a whole number`);
    return n;
  };

const CLUSTER_ID = /^j-[A-Z0-9]+$/;

/** An EMR cluster id (j-…). */
export function parseClusterId(value: string): string {
  if (!CLUSTER_ID.test(value))
    throw new UsageError(`"${value}" is not an EMR cluster id`, 'cluster ids look like j-1ABCDEF2GHIJK');
  return value;
}

const PARAM = /^([A-Za-z_][A-Za-z0-9_]*)(?::(int|double|string|date|bool))?=(.*)$/s;

/**
 * `--param` of `query`: `name=value` (numbers and booleans auto-typed) or `name:type=value` with
 * type int|double|string|date|bool. A value that is not of its declared type is a usage error
 * here, before any SQL runs.
 */
export interface QueryParam {
  readonly value: string | number | boolean;
  /** The declared type (`name:type=…`), bound as that SQL type; absent: DuckDB infers it. */
  readonly type?: 'int' | 'double' | 'string' | 'date' | 'bool';
}

export function parseParam(
  spec: string,
  previous: Record<string, QueryParam> = {},
): Record<string, QueryParam> {
  const m = PARAM.exec(spec);
  if (!m) throw new UsageError(`--param "${spec}" is not name=value or name:type=value`);
  const name = m[1] ?? '';
  const type = m[2] as QueryParam['type'];
  const raw = m[3] ?? '';
  const notA = (what: string, hint?: string) =>
    new UsageError(
      `--param ${name}: "${raw}" is not ${what}`,
      hint ?? 'types: int, double, string, date, bool',
    );
  let value: QueryParam['value'] = raw;
  if (type === 'int' || type === 'double' || (!type && /^-?\d+(\.\d+)?$/.test(raw))) {
    value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value))
      throw notA(type === 'int' ? 'an int' : `a ${type ?? 'number'}`);
    if (type === 'int' && !Number.isSafeInteger(value)) throw notA('an int');
  } else if (type === 'bool' || (!type && /^(true|false)$/.test(raw))) {
    if (raw !== 'true' && raw !== 'false') throw notA('a bool', 'bool values are true or false');
    value = raw === 'true';
  } else if (type === 'date') {
    value = parseDateParam(raw, notA);
  }
  return { ...previous, [name]: type ? { value, type } : { value } };
}

function parseDateParam(raw: string, notA: (what: string, hint?: string) => Error): string {
  try {
    return assertDate(raw);
  } catch {
    throw notA('a date', 'dates are YYYY-MM-DD (UTC)');
  }
}
