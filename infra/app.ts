/**
 * The CDK app: per environment a network, lake, catalog, batch and observability stack, checked by cdk-nag's
 * AwsSolutions rules. Synth is offline: without an account the stacks are environment-agnostic
 * (the CLI's credentials decide at deploy time).
 */
import { App, type AppProps, Tags } from 'aws-cdk-lib';
import { BatchStack } from './batch/batch-stack.ts';
import { CatalogStack } from './catalog/catalog-stack.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName, type InfraEnv, infraEnvOf } from './config.ts';
import { LakeStack } from './lake/lake-stack.ts';
import { addNagChecks } from './nag.ts';
import { NetworkStack } from './network/network-stack.ts';
import { ObservabilityStack } from './observability/observability-stack.ts';

/**
 * CDK feature flags this app relies on: access-log delivery granted by bucket policy instead of
 * the legacy LogDeliveryWrite ACL (cfn-lint W3045), so the log bucket can enforce bucket ownership.
 */
export const FEATURE_FLAGS = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

export interface EnvironmentStacks {
  readonly config: InfraEnv;
  readonly lake: LakeStack;
  readonly catalog: CatalogStack;
  readonly batch: BatchStack;
  readonly observability: ObservabilityStack;
  readonly network: NetworkStack;
}

export interface BuildAppOptions extends AppProps {
  /** Environments to build. @default every one of ENVIRONMENT_NAMES */
  readonly environments?: readonly EnvironmentName[];
  /** Validated configs to use instead of infra/config.ts ENVIRONMENTS (tests). */
  readonly configs?: Partial<Record<EnvironmentName, InfraEnv>>;
}

/** `s3://<lake bucket>/<keyPrefix>`: dealctl's lake.root and the Glue tables' location root. */
export function lakeRootOf(config: InfraEnv): string {
  return `s3://${config.namePrefix}-lake/${config.keyPrefix}`;
}

export function stackIdOf(env: EnvironmentName, area: string): string {
  return `DealFinder-${env}-${area}`;
}

export function buildApp(options: BuildAppOptions = {}): {
  app: App;
  stacks: Partial<Record<EnvironmentName, EnvironmentStacks>>;
} {
  const { environments = ENVIRONMENT_NAMES, configs = {}, ...appProps } = options;
  const app = new App({ ...appProps, context: { ...FEATURE_FLAGS, ...appProps.context } });
  addNagChecks(app);
  const stacks: Partial<Record<EnvironmentName, EnvironmentStacks>> = {};
  for (const name of environments) {
    const config = configs[name] ?? infraEnvOf(name);
    const env = config.account ? { account: config.account, region: config.region } : undefined;
    const common = { env, config };
    const lake = new LakeStack(app, stackIdOf(name, 'Lake'), {
      ...common,
      description: `Deal Finder ${name}: S3 lake, artifacts and model buckets`,
    });
    const catalog = new CatalogStack(app, stackIdOf(name, 'Catalog'), {
      ...common,
      lakeRoot: lakeRootOf(config),
      description: `Deal Finder ${name}: Glue database and lake tables (from schemas/)`,
    });
    catalog.addStackDependency(lake);
    const batch = new BatchStack(app, stackIdOf(name, 'Batch'), {
      ...common,
      lake,
      description: `Deal Finder ${name}: EMR roles, security configuration, logs; the dealctl role`,
    });
    const observability = new ObservabilityStack(app, stackIdOf(name, 'Observability'), {
      ...common,
      description: `Deal Finder ${name}: dealctl log group, error alarm, alarm topic`,
    });
    const network = new NetworkStack(app, stackIdOf(name, 'Network'), {
      ...common,
      description: `Deal Finder ${name}: VPC (private subnets only), endpoints, flow logs`,
    });
    for (const stack of [lake, catalog, batch, observability, network]) {
      for (const [k, v] of Object.entries(config.tags)) Tags.of(stack).add(k, v);
    }
    stacks[name] = { config, lake, catalog, batch, observability, network };
  }
  return { app, stacks };
}
