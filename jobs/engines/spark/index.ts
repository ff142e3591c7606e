export { SparkDriver } from './driver.ts';
export { SparkEngine, SparkJobError } from './engine.ts';
export { inlineSparkMacros, type SparkExtras, type SparkPlan, sparkPlanOf } from './plan.ts';
export { parseRunnerResult, type RunnerItem, type RunnerOutput } from './result.ts';
export {
  confArgs,
  driverSubmitArgs,
  SPARK_RUNNER,
  SPARK_SESSION_CONF,
  type SparkLaunch,
  type SparkSettings,
  sparkConf,
  sparkSettings,
} from './settings.ts';
