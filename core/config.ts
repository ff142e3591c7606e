import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AwsSection } from './config/aws.ts';
import { ClockSection } from './config/clock.ts';
import { EmrSection, GlueSection } from './config/emr.ts';
import { type ConfigWarning, type EnvOverride, envOverridesOf, readEnvOverrides } from './config/env.ts';
import { JobsSection } from './config/jobs.ts';
import { DuckdbSection, LakeSection } from './config/lake.ts';
import { MigrationSection } from './config/migration.ts';
import { DqSection, PipelineSection } from './config/pipelines.ts';
import { SparkSection } from './config/spark.ts';
import { StreamingSection } from './config/streaming.ts';
import { ConfigError, type ConfigProblem, messageOf } from './errors.ts';
import { isRecord } from './guards.ts';
import { createLogger } from './logging.ts';

export type { ConfigWarning, EnvOverride } from './config/env.ts';

/**
 * The one typed configuration of the platform, composed of one section per area. Every field has
 * a safe default for the embedded mode.
 *
 * The section schemas live in core/config/<area>.ts rather than in the areas themselves: core is
 * the bottom layer that every area imports (for `Config`), so core importing streaming/ or
 * pipelines/ would point a layer up and make import cycles through their index files.
 */
export const ConfigSchema = z.strictObject({
  clock: ClockSection,
  lake: LakeSection,
  duckdb: DuckdbSection,
  jobs: JobsSection,
  dq: DqSection,
  pipeline: PipelineSection,
  streaming: StreamingSection,
  aws: AwsSection,
  emr: EmrSection,
  glue: GlueSection,
  spark: SparkSection,
  migration: MigrationSection,
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export const DEFAULT_CONFIG_FILE = 'dealfinder.config.json';

/** Every config key's environment variable, derived from the schema (core/config/env.ts). */
export const ENV_OVERRIDES: readonly EnvOverride[] = envOverridesOf(ConfigSchema);

export interface LoadConfigOptions {
  /** Explicit config file; else DEALFINDER_CONFIG; else ./dealfinder.config.json when present. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence overrides (CLI flags). */
  overrides?: ConfigInput;
  cwd?: string;
  /** Gets each unknown DEALFINDER_* variable (default: logged as a warning). */
  onWarning?: (warning: ConfigWarning) => void;
}

export interface LoadedConfig {
  readonly config: Config;
  /** Unknown DEALFINDER_* variables (ignored). */
  readonly warnings: readonly ConfigWarning[];
}

/**
 * Reads file + environment + overrides and validates them, collecting every problem (the file,
 * unparseable variables, each schema violation) into one ConfigError.
 */
export function readConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.DEALFINDER_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.resolve(cwd, DEFAULT_CONFIG_FILE);
  const problems: ConfigProblem[] = [];
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isRecord(parsed)) fromFile = parsed;
      else problems.push({ path: '', message: 'the config file is not a JSON object', source: file });
    } catch (error) {
      problems.push({ path: '', message: `cannot parse: ${messageOf(error)}`, source: file });
    }
  } else if (explicit) {
    problems.push({ path: '', message: 'the config file does not exist', source: file });
  }
  // DEALFINDER_NOW is the clock's short name (core/clock.ts); the derived DEALFINDER_CLOCK_NOW wins.
  const fromEnv = readEnvOverrides(ENV_OVERRIDES, {
    ...env,
    DEALFINDER_CLOCK_NOW: env.DEALFINDER_CLOCK_NOW ?? env.DEALFINDER_NOW,
  });
  problems.push(...fromEnv.problems);
  const raw = deepMerge(deepMerge(fromFile, fromEnv.values), options.overrides ?? {});
  const result = ConfigSchema.safeParse(raw);
  if (!result.success)
    for (const issue of result.error.issues) {
      const at = issue.path.map(String).join('.');
      problems.push({ path: at, message: issue.message, source: sourceOf(at, fromEnv.values, file) });
    }
  if (problems.length > 0 || !result.success) throw configErrorOf(problems);
  const config = result.data;
  if (!/^s3:\/\//.test(config.lake.root)) config.lake.root = path.resolve(cwd, config.lake.root);
  return { config: Object.freeze(config), warnings: fromEnv.warnings };
}

/**
 * Loads file + environment + overrides, validates, and returns a frozen typed config. Unknown
 * DEALFINDER_* variables go to `onWarning` (default: a warning in the log).
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const { config, warnings } = readConfig(options);
  const warn = options.onWarning ?? defaultWarning;
  for (const w of warnings) warn(w);
  return config;
}

function defaultWarning(w: ConfigWarning): void {
  createLogger({ component: 'config' }).warn({ variable: w.variable }, w.message);
}

function configErrorOf(problems: readonly ConfigProblem[]): ConfigError {
  const shown = problems.map((p) => {
    const where = p.source?.startsWith('DEALFINDER_')
      ? `${p.source} (${p.path})`
      : p.path || p.source || '(root)';
    return `${where}: ${p.message}`;
  });
  return new ConfigError(
    `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${shown.join('; ')}`,
    undefined,
    problems,
  );
}

/** Where a bad value at `at` came from: its environment variable when one set it, else the file. */
function sourceOf(at: string, fromEnv: Record<string, unknown>, file: string): string | undefined {
  const override = ENV_OVERRIDES.find(
    (o) => o.path.join('.') === at || at.startsWith(`${o.path.join('.')}.`),
  );
  if (override && hasPath(fromEnv, override.path)) return override.variable;
  return existsSync(file) ? file : undefined;
}

function hasPath(obj: Record<string, unknown>, p: readonly string[]): boolean {
  let node: unknown = obj;
  for (const key of p) {
    if (!isRecord(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

function deepMerge(base: Record<string, unknown>, over: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isRecord(v) && isRecord(b) ? deepMerge(b, v) : v;
  }
  return out;
}
