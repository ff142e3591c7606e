/**
 * The dealctl config of an environment, from the same names the stacks create
 * (infra/config.ts resourceNamesOf), validated by the application's own schema (core/config.ts),
 * so application and infrastructure cannot drift: `npm run infra -- config --env prod >
 * dealfinder.prod.json`.
 */
import { type ConfigInput, ConfigSchema } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { lakeRootOf } from './app.ts';
import { type InfraEnv, resourceNamesOf } from './config.ts';

export function dealctlConfigOf(env: InfraEnv): ConfigInput {
  const names = resourceNamesOf(env);
  const config: ConfigInput = {
    lake: { root: lakeRootOf(env) },
    aws: { region: env.region, bucket: names.artifactsBucket, prefix: env.keyPrefix },
    emr: {
      releaseLabel: env.batch.releaseLabel,
      serviceRole: names.emrServiceRole,
      jobFlowRole: names.emrInstanceProfile,
      logUri: `s3://${names.emrLogsBucket}/${env.keyPrefix}/emr-logs/`,
    },
    glue: { enabled: true, database: names.glueDatabase },
    migration: { staging: `s3://${names.artifactsBucket}/${env.keyPrefix}/migration` },
  };
  const parsed = ConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new ConfigError(
      `the ${env.name} infrastructure yields an invalid dealctl config`,
      'infra/config.ts names must satisfy core/config/ (bucket, prefix and database rules)',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return config;
}
