/**
 * One place that builds the AWS SDK v3 clients of the platform (S3, EMR, Glue), so region,
 * endpoint override, path-style addressing and retries are the same everywhere.
 *
 *  - region: config `aws.region` (default us-east-1).
 *  - endpoint: config `aws.endpoint`, else env AWS_ENDPOINT_URL (what the moto harness sets),
 *    else the AWS default endpoint of each service.
 *  - S3 path-style addressing: config `aws.forcePathStyle`, default on when an endpoint override is
 *    in effect (emulators have no DNS for bucket.host).
 *  - retries: the SDK's own retry strategy (`retryMode` standard or adaptive, `maxAttempts`):
 *    exponential backoff with jitter on throttling (ThrottlingException, SlowDown, 429), 5xx and
 *    connection errors; adaptive mode also rate-limits the client after throttling.
 *  - credentials: the SDK's default provider chain (env, profile, SSO, instance role).
 */
import { EMRClient } from '@aws-sdk/client-emr';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';

export interface AwsSettings {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly maxAttempts: number;
  readonly retryMode: 'standard' | 'adaptive';
}

/** Effective AWS settings of a config, with the AWS_ENDPOINT_URL fallback applied. */
export function awsSettingsOf(
  config: Pick<Config, 'aws'>,
  env: NodeJS.ProcessEnv = process.env,
): AwsSettings {
  const endpoint = config.aws.endpoint ?? (env.AWS_ENDPOINT_URL?.trim() || undefined);
  return {
    region: config.aws.region,
    endpoint,
    forcePathStyle: config.aws.forcePathStyle ?? endpoint !== undefined,
    maxAttempts: config.aws.maxAttempts,
    retryMode: config.aws.retryMode,
  };
}

/** Constructor options shared by every client. */
export function clientOptionsOf(settings: AwsSettings): {
  region: string;
  endpoint?: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
} {
  return {
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    maxAttempts: settings.maxAttempts,
    retryMode: settings.retryMode,
  };
}

export interface AwsClients {
  readonly settings: AwsSettings;
  readonly s3: S3Client;
  readonly emr: EMRClient;
  readonly glue: GlueClient;
  destroy(): void;
}

/** Lazily built clients (a command that only needs S3 never constructs EMR). */
export function awsClients(config: Pick<Config, 'aws'>, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const settings = awsSettingsOf(config, env);
  const base = clientOptionsOf(settings);
  let s3: S3Client | undefined;
  let emr: EMRClient | undefined;
  let glue: GlueClient | undefined;
  return {
    settings,
    get s3() {
      s3 ??= new S3Client({ ...base, forcePathStyle: settings.forcePathStyle });
      return s3;
    },
    get emr() {
      emr ??= new EMRClient(base);
      return emr;
    },
    get glue() {
      glue ??= new GlueClient(base);
      return glue;
    },
    destroy() {
      s3?.destroy();
      emr?.destroy();
      glue?.destroy();
    },
  };
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** s3://bucket/key/… → { bucket, key } (key without leading slash; may be ''). */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new ConfigError(`not an s3:// URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key.replace(/^\/+/, '')}`;
}

/** Joins key parts with single slashes (empty parts dropped). */
export function joinKey(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p.length > 0)
    .join('/');
}

/** Name of an SDK error (`NoSuchKey`, `ThrottlingException`, …), or ''. */
export function awsErrorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  for (const key of ['name', 'Code', 'code']) {
    const v: unknown = Reflect.get(error, key);
    if (typeof v === 'string' && v) return v;
  }
  return '';
}

/** The HTTP status of an SDK error (`$metadata.httpStatusCode`), or undefined. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const meta: unknown = error.$metadata;
  if (typeof meta !== 'object' || meta === null || !('httpStatusCode' in meta)) return undefined;
  return typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
]);

/** Throttling that outlived the SDK's own retries (the caller may back off and try again). */
export function isThrottling(error: unknown): boolean {
  return THROTTLING.has(awsErrorName(error)) || httpStatusOf(error) === 429;
}

/** One AWS API call as plain data: what `--dry-run` prints and what the orchestrator sends. */
export interface AwsRequest {
  readonly service: 's3' | 'emr' | 'glue';
  /** API operation, e.g. PutObject, RunJobFlow, BatchCreatePartition. */
  readonly command: string;
  readonly input: Record<string, unknown>;
  /** Condition under which the call is made (e.g. "only if HeadObject returned 404"). */
  readonly when?: string;
}
