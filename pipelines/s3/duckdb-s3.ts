/**
 * Points a DuckDB connection at an s3:// lake: loads httpfs from an extension directory (DuckDB
 * must not download extensions at run time here), and creates an S3 secret with the region,
 * endpoint, URL style and TLS setting of the platform's AWS config (core/aws.ts), so the same code
 * reads and writes real S3 and the moto emulator.
 *
 * Credentials: explicit ones, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN)
 * from the environment. (DuckDB's credential_chain provider needs the `aws` extension, which is
 * not provisioned; on EC2/EMR export the role's credentials or pass them in.)
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type AwsSettings, awsSettingsOf } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import { sqlString } from '../../core/sql.ts';

export interface DuckDbS3Options {
  /** Folder holding <version>/<platform>/httpfs.duckdb_extension (e.g. test/services/duckdb-ext.ts). */
  readonly extensionDirectory?: string | undefined;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Secret name (default dealfinder_s3). */
  readonly secretName?: string;
  /** Restrict the secret to this URL prefix (default: all of s3://). */
  readonly scope?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** The statements configureDuckDbS3 runs (secrets masked), e.g. for logs. */
export function duckDbS3Statements(settings: AwsSettings, options: DuckDbS3Options = {}): string[] {
  const env = options.env ?? process.env;
  const creds =
    options.credentials ??
    (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        }
      : undefined);
  const parts = ['TYPE s3', `REGION ${sqlString(settings.region)}`];
  if (creds) {
    parts.push(`KEY_ID ${sqlString(creds.accessKeyId)}`, `SECRET ${sqlString(creds.secretAccessKey)}`);
    if (creds.sessionToken) parts.push(`SESSION_TOKEN ${sqlString(creds.sessionToken)}`);
  }
  if (settings.endpoint) {
    const url = new URL(settings.endpoint);
    parts.push(`ENDPOINT ${sqlString(url.host)}`, `USE_SSL ${url.protocol === 'https:' ? 'true' : 'false'}`);
  }
  parts.push(`URL_STYLE ${sqlString(settings.forcePathStyle ? 'path' : 'vhost')}`);
  if (options.scope) parts.push(`SCOPE ${sqlString(options.scope)}`);
  const name = options.secretName ?? 'dealfinder_s3';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad secret name ${name}`);
  const statements: string[] = [];
  if (options.extensionDirectory)
    statements.push(`SET extension_directory = ${sqlString(options.extensionDirectory)}`);
  statements.push('LOAD httpfs', `CREATE OR REPLACE SECRET ${name} (${parts.join(', ')})`);
  return statements;
}

/** Configures `connection` for s3:// paths per the config's aws section. */
export async function configureDuckDbS3(
  connection: DuckDBConnection,
  config: Pick<Config, 'aws'>,
  options: DuckDbS3Options = {},
): Promise<void> {
  const settings = awsSettingsOf(config, options.env);
  for (const sql of duckDbS3Statements(settings, options)) await connection.run(sql);
}
