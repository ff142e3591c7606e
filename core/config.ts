import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

const Severity = z.enum(['fail', 'warn']);

/** The one typed configuration of the platform. Every field has a safe default for the embedded mode. */
export const ConfigSchema = z.strictObject({
  lake: z
    .strictObject({
      /** Root of the data lake: a local folder (default) or, with the Spark/EMR engines, s3://bucket/prefix. */
      root: z.string().min(1).default('lake'),
    })
    .prefault({}),
  duckdb: z
    .strictObject({
      memoryLimit: z
        .string()
        .regex(/^[0-9.]+\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i)
        .default('2GB'),
      threads: z.number().int().min(1).max(256).default(2),
      /** Spill folder; defaults to <lake>/_tmp/duckdb. */
      tempDirectory: z.string().optional(),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      maxPlausiblePrice: z.number().positive().default(50_000),
      dedupeWindowHours: z
        .number()
        .positive()
        .max(24 * 7)
        .default(24),
      minMatchConfidence: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  dq: z
    .strictObject({
      completeness: z
        .strictObject({ min: z.number().min(0).max(1).default(0.95), severity: Severity.default('fail') })
        .prefault({}),
      validity: z
        .strictObject({ min: z.number().min(0).max(1).default(0.99), severity: Severity.default('fail') })
        .prefault({}),
      freshness: z
        .strictObject({ maxAgeHours: z.number().positive().default(48), severity: Severity.default('warn') })
        .prefault({}),
      rowCountChange: z
        .strictObject({ maxRatio: z.number().positive().default(0.5), severity: Severity.default('warn') })
        .prefault({}),
      quarantineRate: z
        .strictObject({ max: z.number().min(0).max(1).default(0.25), severity: Severity.default('warn') })
        .prefault({}),
      conservation: z.strictObject({ severity: Severity.default('fail') }).prefault({}),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      retries: z.number().int().min(0).max(10).default(2),
      retryMinDelayMs: z.number().int().min(0).default(500),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export const DEFAULT_CONFIG_FILE = 'dealfinder.config.json';

/** Environment overrides: DEALFINDER_<SECTION>_<KEY> in screaming snake case, e.g. DEALFINDER_DUCKDB_MEMORY_LIMIT=4GB. */
const ENV_OVERRIDES: Record<string, [string, string, 'string' | 'number']> = {
  DEALFINDER_LAKE_ROOT: ['lake', 'root', 'string'],
  DEALFINDER_DUCKDB_MEMORY_LIMIT: ['duckdb', 'memoryLimit', 'string'],
  DEALFINDER_DUCKDB_THREADS: ['duckdb', 'threads', 'number'],
  DEALFINDER_DUCKDB_TEMP_DIRECTORY: ['duckdb', 'tempDirectory', 'string'],
  DEALFINDER_JOBS_MAX_PLAUSIBLE_PRICE: ['jobs', 'maxPlausiblePrice', 'number'],
  DEALFINDER_PIPELINE_RETRIES: ['pipeline', 'retries', 'number'],
};

export interface LoadConfigOptions {
  /** Explicit config file; else DEALFINDER_CONFIG; else ./dealfinder.config.json when present. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence overrides (CLI flags). */
  overrides?: ConfigInput;
  cwd?: string;
}

/** Loads file + environment + overrides, validates, and returns a frozen typed config. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.DEALFINDER_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, DEFAULT_CONFIG_FILE);
  let raw: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`cannot parse ${file}: ${(error as Error).message}`);
    }
  } else if (explicit) {
    throw new ConfigError(`config file ${file} does not exist`);
  }
  for (const [name, [section, key, type]] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const parsed = type === 'number' ? Number(value) : value;
    if (type === 'number' && Number.isNaN(parsed)) throw new ConfigError(`${name}=${value} is not a number`);
    const target = (raw[section] ?? {}) as Record<string, unknown>;
    target[key] = parsed;
    raw[section] = target;
  }
  raw = deepMerge(raw, (options.overrides ?? {}) as Record<string, unknown>);
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new ConfigError(`invalid configuration at ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  const config = result.data;
  if (!/^s3:\/\//.test(config.lake.root)) config.lake.root = path.resolve(cwd, config.lake.root);
  return Object.freeze(config);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
