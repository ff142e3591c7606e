import type { Config } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import { DuckDbEngine, duckDbSettings } from './duckdb.ts';
import type { Engine } from './engine.ts';
import { SparkEngine, sparkSettings } from './spark/index.ts';

/** Engines createEngine() builds; EMR (pipelines/emr/engine.ts, EmrEngine) needs AWS clients and is built there. */
export const ENGINE_NAMES = ['duckdb', 'spark'] as const;
export type LocalEngineName = (typeof ENGINE_NAMES)[number];

/**
 * The engine of that name, configured from the config: 'duckdb' (in-process) or 'spark'
 * (one long-lived spark-submit driver, started on the first job). Close it when done.
 */
export async function createEngine(
  name: string,
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Engine> {
  switch (name) {
    case 'duckdb':
      return DuckDbEngine.create(duckDbSettings(config));
    case 'spark':
      return SparkEngine.create(sparkSettings(config, env));
    default:
      throw new UsageError(`unknown engine ${name}`, `use one of: ${ENGINE_NAMES.join(', ')}`);
  }
}
