/**
 * The S3 lake: one bucket for the lake tables (dealctl's lake.root, raw archives under raw/),
 * one for run artifacts (aws.bucket: the PySpark runner, plans, step results), one for model
 * files, and the server-access-log bucket the others log to. All are KMS-encrypted with one
 * rotating key, versioned, TLS-only and closed to the public.
 *
 * Raw and curated data share the lake bucket because the code addresses one lake root
 * (core/lake.ts TABLES: raw/deals, deals, …); the raw archives are told apart by prefix, which is
 * where the lifecycle to Standard-IA and Glacier applies.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TABLES } from '../../core/lake.ts';
import { resourceNamesOf } from '../config.ts';
import { removalPolicyOf } from '../removal.ts';
import type { LakeStackProps } from './lake-stack-props.ts';

export class LakeStack extends Stack {
  /** The key every lake bucket (except the access logs, which S3 cannot write with KMS) uses. */
  readonly key: kms.Key;
  readonly lakeBucket: s3.Bucket;
  readonly artifactsBucket: s3.Bucket;
  readonly modelsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LakeStackProps) {
    super(scope, id, props);
    const infra = props.config;
    const names = resourceNamesOf(infra);
    const removalPolicy = removalPolicyOf(this, infra);
    const keyPrefix = infra.keyPrefix;

    this.key = new kms.Key(this, 'LakeKey', {
      alias: `alias/${infra.namePrefix}-lake`,
      description: `Deal Finder ${infra.name}: lake, artifacts and model buckets`,
      enableKeyRotation: true,
      removalPolicy,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      bucketName: names.accessLogsBucket,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(infra.lake.accessLogDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    const common = (logPrefix: string): s3.BucketProps => ({
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${logPrefix}/`,
      removalPolicy,
    });
    const noncurrent: s3.LifecycleRule = {
      id: 'noncurrent-versions',
      noncurrentVersionExpiration: Duration.days(infra.lake.noncurrentVersionDays),
      abortIncompleteMultipartUploadAfter: Duration.days(7),
    };

    this.lakeBucket = new s3.Bucket(this, 'Lake', {
      ...common('lake'),
      bucketName: names.lakeBucket,
      lifecycleRules: [
        noncurrent,
        {
          id: 'raw-archive',
          prefix: `${keyPrefix}/${rawPathOfLake()}/`,
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(infra.lake.rawToInfrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER,
              transitionAfter: Duration.days(infra.lake.rawToGlacierDays),
            },
          ],
        },
      ],
    });
    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      ...common('artifacts'),
      bucketName: names.artifactsBucket,
      lifecycleRules: [noncurrent],
    });
    this.modelsBucket = new s3.Bucket(this, 'Models', {
      ...common('models'),
      bucketName: names.modelsBucket,
      lifecycleRules: [noncurrent],
    });
  }
}

/** The raw zone's top folder under the lake root, from the lake layout the jobs use (raw/deals → raw). */
export function rawPathOfLake(): string {
  const top = TABLES.raw_deals.path.split('/')[0];
  if (!top) throw new Error('core/lake.ts raw_deals has an empty path');
  return top;
}
