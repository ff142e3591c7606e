export { DuckDbEngine, type DuckDbSettings, duckDbSettings, openDuckDb } from './engines/duckdb.ts';
export type { Engine, EngineName, JobResult, OutputResult } from './engines/engine.ts';
export {
  type JobDef,
  type JobInput,
  type JobOutput,
  type JobStatement,
  loadJobSql,
  parseJobSql,
} from './job.ts';
export { duckdbMacroStatements, MACROS, sparkMacroStatements } from './macros.ts';
export { type JobPlan, planJob } from './plan.ts';
export { JOBS, jobByName, topologicalOrder } from './registry.ts';
