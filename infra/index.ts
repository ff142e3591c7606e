/** The platform's AWS infrastructure as a CDK app: one folder per area. */
export { buildApp, type EnvironmentStacks, lakeRootOf, stackIdOf } from './app.ts';
export * from './batch/index.ts';
export * from './catalog/index.ts';
export {
  ENVIRONMENT_NAMES,
  type EnvironmentName,
  type InfraEnv,
  infraEnvOf,
  resourceNamesOf,
} from './config.ts';
export * from './lake/index.ts';
export * from './network/index.ts';
export * from './observability/index.ts';
