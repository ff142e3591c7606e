/**
 * Typed readers of what the sources answer (Chroma's HTTP JSON, chroma_source.py's JSON lines):
 * each checks the shape it returns instead of casting, and names what was wrong.
 */

import { isRecord } from '../../core/guards.ts';

export class WireError extends Error {}

export type Json = Record<string, unknown>;

export { isRecord };

export function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new WireError(`${what} is not an object`);
  return value;
}

export function recordOrNull(value: unknown, what: string): Json | null {
  return value === null || value === undefined ? null : record(value, what);
}

export function num(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new WireError(`${what} is not a number`);
  return value;
}

export function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new WireError(`${what} is not a string`);
  return value;
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new WireError(`${what} is not an array`);
  return value;
}

export function strings(value: unknown, what: string): string[] {
  const a = array(value, what);
  if (!a.every((v): v is string => typeof v === 'string')) throw new WireError(`${what} holds a non-string`);
  return a;
}

export function numbers(value: unknown, what: string): number[] {
  const a = array(value, what);
  if (!a.every((v): v is number => typeof v === 'number')) throw new WireError(`${what} holds a non-number`);
  return a;
}

/** A list whose items are all of one kind, or null/absent. */
export function listOrNull<T>(
  value: unknown,
  what: string,
  item: (v: unknown, what: string) => T,
): T[] | null {
  if (value === null || value === undefined) return null;
  return array(value, what).map((v) => item(v, what));
}

export const stringOrNull = (v: unknown, what: string): string | null => (v === null ? null : str(v, what));

/** { key: number } */
export function counts(value: unknown, what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(record(value, what))) out[k] = num(v, `${what}.${k}`);
  return out;
}
