/**
 * One typed configuration per deployment environment (dev, prod): names, sizes, retention and
 * removal policy, validated with zod like the application's config (core/config/). Every physical
 * name the stacks create is derived here, so the dealctl config printed for an environment
 * (infra/dealctl-config.ts) and the resources the stacks create come from the same values.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';

/** The environments this app deploys. */
export const ENVIRONMENT_NAMES = ['dev', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

const bucketSafe = /^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$/;

export const InfraEnvSchema = z.strictObject({
  name: z.enum(ENVIRONMENT_NAMES),
  /** Target account; omitted: the CLI's credentials decide (environment-agnostic synth). */
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z.string().min(1).default('us-east-1'),
  /**
   * Prefix of every physical name (buckets, roles, Glue database). Bucket names are global, so
   * an operator sets a prefix unique to the organisation.
   */
  namePrefix: z.string().regex(bucketSafe, 'lower-case letters, digits and -, 3–42 characters'),
  /** Key prefix inside the lake and artifacts buckets (dealctl's aws.prefix). */
  keyPrefix: z
    .string()
    .regex(/^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/)
    .default('deal-finder'),
  glueDatabase: z.string().regex(/^[a-z0-9_]{1,255}$/),
  /**
   * What happens to buckets, keys and log groups when a stack is deleted. `destroy` is honoured
   * only together with the explicit switch (context `dealfinder:allowDestroy=true`), see
   * removalPolicyOf.
   */
  removal: z.enum(['retain', 'destroy']).default('retain'),
  lake: z
    .strictObject({
      /** Days before raw archives (the raw/ prefix) move to S3 Standard-IA. */
      rawToInfrequentAccessDays: z.number().int().min(30).default(30),
      /** Days before raw archives move to Glacier Flexible Retrieval. */
      rawToGlacierDays: z.number().int().min(60).default(90),
      /** Days noncurrent object versions are kept. */
      noncurrentVersionDays: z.number().int().min(1).default(30),
      /** Days server access logs are kept. */
      accessLogDays: z.number().int().min(1).default(365),
    })
    .prefault({}),
  batch: z
    .strictObject({
      /** Days EMR cluster and step logs are kept. */
      emrLogDays: z.number().int().min(1).default(30),
      /** EMR release the orchestrator asks for (dealctl's emr.releaseLabel). */
      releaseLabel: z
        .string()
        .regex(/^emr-\d+\.\d+\.\d+$/)
        .default('emr-7.5.0'),
    })
    .prefault({}),
  network: z
    .strictObject({
      cidr: z.cidrv4().default('10.40.0.0/16'),
      maxAzs: z.number().int().min(1).max(6).default(2),
      /** Interface endpoints (infra/network INTERFACE_ENDPOINTS); each costs ~$7/month per AZ. */
      interfaceEndpoints: z
        .array(
          z.enum([
            'glue',
            'emr',
            'sagemakerApi',
            'sagemakerRuntime',
            'secretsManager',
            'ecrApi',
            'ecrDocker',
            'logs',
            'sts',
          ]),
        )
        .default([
          'glue',
          'emr',
          'sagemakerApi',
          'sagemakerRuntime',
          'secretsManager',
          'ecrApi',
          'ecrDocker',
          'logs',
          'sts',
        ]),
    })
    .prefault({}),
  observability: z
    .strictObject({
      /** Days CloudWatch log groups keep their events. */
      logRetentionDays: z
        .union([z.literal(7), z.literal(14), z.literal(30), z.literal(90), z.literal(180), z.literal(365)])
        .default(30),
      /** Address subscribed to the alarm topic; omitted: subscribe yourself. */
      alarmEmail: z.email().optional(),
    })
    .prefault({}),
  tags: z.record(z.string(), z.string()).default({}),
});

export type InfraEnv = z.infer<typeof InfraEnvSchema>;
export type InfraEnvInput = z.input<typeof InfraEnvSchema>;

/**
 * The checked-in environments. dev is cheap and disposable (destroy behind the switch, short
 * retention); prod retains everything.
 */
export const ENVIRONMENTS: Readonly<Record<EnvironmentName, InfraEnvInput>> = {
  dev: {
    name: 'dev',
    namePrefix: 'deal-finder-dev',
    glueDatabase: 'deal_finder_dev',
    removal: 'destroy',
    lake: { noncurrentVersionDays: 7, accessLogDays: 30 },
    batch: { emrLogDays: 14 },
    observability: { logRetentionDays: 14 },
    tags: { project: 'deal-finder', environment: 'dev' },
  },
  prod: {
    name: 'prod',
    namePrefix: 'deal-finder-prod',
    glueDatabase: 'deal_finder',
    removal: 'retain',
    lake: { noncurrentVersionDays: 90, accessLogDays: 365 },
    batch: { emrLogDays: 90 },
    observability: { logRetentionDays: 90 },
    tags: { project: 'deal-finder', environment: 'prod' },
  },
};

/** Validated config of one environment; overrides (tests, an operator's account) are merged on top. */
export function infraEnvOf(name: string, overrides: Partial<InfraEnvInput> = {}): InfraEnv {
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(
      `unknown infrastructure environment: ${name}`,
      `use one of ${ENVIRONMENT_NAMES.join(', ')}`,
      [{ path: 'env', message: `not one of ${ENVIRONMENT_NAMES.join(', ')}` }],
    );
  }
  const parsed = InfraEnvSchema.safeParse({ ...ENVIRONMENTS[name as EnvironmentName], ...overrides });
  if (!parsed.success) {
    throw new ConfigError(
      `invalid infrastructure config for ${name}`,
      'fix infra/config.ts ENVIRONMENTS or the overrides',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

/** Physical names of everything dealctl addresses; one place, used by the stacks and the config printer. */
export function resourceNamesOf(env: InfraEnv) {
  const p = env.namePrefix;
  return {
    lakeBucket: `${p}-lake`,
    artifactsBucket: `${p}-artifacts`,
    modelsBucket: `${p}-models`,
    accessLogsBucket: `${p}-access-logs`,
    emrLogsBucket: `${p}-emr-logs`,
    emrServiceRole: `${p}-emr-service`,
    emrInstanceRole: `${p}-emr-instance`,
    /** EMR's JobFlowRole is the instance profile's name. */
    emrInstanceProfile: `${p}-emr-instance`,
    emrSecurityConfiguration: `${p}-emr-security`,
    dealctlRole: `${p}-dealctl`,
    glueDatabase: env.glueDatabase,
  } as const;
}
export type ResourceNames = ReturnType<typeof resourceNamesOf>;
