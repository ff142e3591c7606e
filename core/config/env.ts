/**
 * Environment overrides derived from the config schema: every leaf key has a variable
 * DEALFINDER_<SECTION>_<KEY>, the dotted path in screaming snake case
 * (`duckdb.memoryLimit` → DEALFINDER_DUCKDB_MEMORY_LIMIT, `dq.completeness.min` →
 * DEALFINDER_DQ_COMPLETENESS_MIN). Values are parsed by the key's type: numbers and booleans
 * from their text, arrays, records and objects as JSON, a union of a number and a word
 * (migration.dimension: 384 | "any") as the number when it is one. A DEALFINDER_* variable
 * that is neither an override nor one of the process variables below is reported as a warning.
 */
import { z } from 'zod';
import type { ConfigProblem } from '../errors.ts';
import { isRecord } from '../guards.ts';

/** DEALFINDER_* variables the code reads that are not config keys (not warned about). */
export const NON_CONFIG_VARIABLES: ReadonlySet<string> = new Set([
  'DEALFINDER_CONFIG', // the config file (core/config.ts)
  'DEALFINDER_LOG_LEVEL', // core/logging.ts
  'DEALFINDER_VERBOSE', // stack traces (cli/)
  'DEALFINDER_NOW', // the injectable clock (core/clock.ts)
  'DEALFINDER_CRASH_AT', // crash-test hook (core/lake.ts)
  'DEALFINDER_CHROMA_PYTHON', // python with chromadb (migration/source)
  'DEALFINDER_SPARK_TOKEN', // handshake of the Spark driver (jobs/engines/spark.ts)
  // the test-service harness (test/services/)
  'DEALFINDER_CACHE_DIR',
  'DEALFINDER_RUN_ID',
  'DEALFINDER_RUN_PID',
  'DEALFINDER_RUN_PID_START',
  'DEALFINDER_KEEP_SERVICES',
  'DEALFINDER_SERVICE_MARK',
  'DEALFINDER_PYTHON',
]);

/** How an override's text becomes a value. */
export type EnvKind = 'string' | 'number' | 'boolean' | 'json' | 'number-or-string';

export interface EnvOverride {
  readonly variable: string;
  /** Path of the key in the config (['duckdb', 'memoryLimit']). */
  readonly path: readonly string[];
  readonly kind: EnvKind;
}

export interface ConfigWarning {
  readonly variable: string;
  readonly message: string;
}

export function screamingSnake(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}

/** The schema under defaults, prefaults, optionals and nullables. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (let depth = 0; depth < 10; depth++) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault) s = s.unwrap();
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else return s;
  }
  return s;
}

function kindOf(schema: z.core.$ZodType): EnvKind {
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodString || schema instanceof z.ZodEnum || schema instanceof z.ZodLiteral)
    return 'string';
  if (schema instanceof z.ZodUnion) {
    const options = schema.options.map((o) => unwrap(o));
    if (options.some((o) => o instanceof z.ZodNumber) && options.every((o) => kindOf(o) !== 'json'))
      return 'number-or-string';
  }
  return 'json';
}

/** Every leaf of an object schema, with its derived variable. */
export function envOverridesOf(schema: z.ZodObject, prefix = 'DEALFINDER'): EnvOverride[] {
  const out: EnvOverride[] = [];
  const walk = (s: z.ZodObject, path: string[]) => {
    for (const [key, field] of Object.entries(s.shape)) {
      const inner = unwrap(field);
      const at = [...path, key];
      if (inner instanceof z.ZodObject) walk(inner, at);
      else
        out.push({ variable: [prefix, ...at.map(screamingSnake)].join('_'), path: at, kind: kindOf(inner) });
    }
  };
  walk(schema, []);
  const seen = new Map<string, string>();
  for (const o of out) {
    const other = seen.get(o.variable);
    // Two keys deriving one variable name is a schema bug: fail loudly at start.
    if (other) throw new Error(`config keys ${other} and ${o.path.join('.')} both map to ${o.variable}`);
    seen.set(o.variable, o.path.join('.'));
  }
  return out;
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

function parseValue(text: string, kind: EnvKind): Parsed {
  switch (kind) {
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const n = Number(text.trim());
      return text.trim() !== '' && Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, message: `"${text}" is not a number` };
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return { ok: true, value: true };
      if (['false', '0', 'no', 'off'].includes(t)) return { ok: true, value: false };
      return { ok: false, message: `"${text}" is not a boolean (true/false)` };
    }
    case 'number-or-string': {
      const n = Number(text.trim());
      return { ok: true, value: text.trim() !== '' && Number.isFinite(n) ? n : text };
    }
    case 'json':
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch (error) {
        return { ok: false, message: `not JSON (${error instanceof Error ? error.message : String(error)})` };
      }
  }
}

/** Levenshtein distance (small strings: variable names). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(
        Math.min(
          (prev[j] ?? 0) + 1,
          (row[j - 1] ?? 0) + 1,
          (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
        ),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The known name nearest to a misspelt one (at most 3 edits away), for the warning. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (d <= 3 && (!best || d < best.d)) best = { name: k, d };
  }
  return best?.name;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isRecord(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  const last = path.at(-1);
  if (last !== undefined) node[last] = value;
}

/**
 * The overrides set in `env` as a partial config document, the variables that could not be
 * parsed (problems), and the unknown DEALFINDER_* variables (warnings).
 */
export function readEnvOverrides(
  overrides: readonly EnvOverride[],
  env: NodeJS.ProcessEnv,
): { values: Record<string, unknown>; problems: ConfigProblem[]; warnings: ConfigWarning[] } {
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const byName = new Map(overrides.map((o) => [o.variable, o]));
  for (const o of overrides) {
    const text = env[o.variable];
    if (text === undefined || text === '') continue;
    const parsed = parseValue(text, o.kind);
    if (parsed.ok) setPath(values, o.path, parsed.value);
    else problems.push({ path: o.path.join('.'), message: parsed.message, source: o.variable });
  }
  const warnings: ConfigWarning[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('DEALFINDER_') || byName.has(name) || NON_CONFIG_VARIABLES.has(name)) continue;
    const near = closest(name, [...byName.keys()]);
    warnings.push({
      variable: name,
      message: `${name} is not a config variable and is ignored (${near ? `did you mean ${near}? ` : ''}see README "Configuration" for the DEALFINDER_* names)`,
    });
  }
  return { values, problems, warnings };
}
