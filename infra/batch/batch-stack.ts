/**
 * Spark on EMR as dealctl's orchestrator (pipelines/emr) drives it: the EMR service role and
 * the instance profile its RunJobFlow names (emr.serviceRole, emr.jobFlowRole), a security
 * configuration (at-rest and in-transit encryption), the EMR log bucket (emr.logUri), and the
 * role dealctl itself runs as, granted exactly the SDK calls the code sends (see
 * infra/batch/dealctl-actions.ts and its coverage test).
 *
 * Every data grant names the lake prefixes: the lake tables under `<keyPrefix>/`, the run
 * artifacts under `<keyPrefix>/artifacts/` and step results under `<keyPrefix>/runs/` in the
 * artifacts bucket, logs under `<keyPrefix>/emr-logs/`.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as emr from 'aws-cdk-lib/aws-emr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { resourceNamesOf } from '../config.ts';
import { acknowledge } from '../nag.ts';
import { removalPolicyOf } from '../removal.ts';
import type { BatchStackProps } from './batch-stack-props.ts';
import { DEALCTL_ACTIONS } from './dealctl-actions.ts';

/** Tag every cluster dealctl starts carries (core/config/emr.ts tags default), scoping EMR grants. */
export const EMR_SCOPE_TAG = { key: 'project', value: 'deal-finder' } as const;

export class BatchStack extends Stack {
  readonly emrLogsBucket: s3.Bucket;
  readonly serviceRole: iam.Role;
  readonly instanceRole: iam.Role;
  readonly instanceProfile: iam.CfnInstanceProfile;
  readonly securityConfiguration: emr.CfnSecurityConfiguration;
  /** The role dealctl runs as (ECS task role). */
  readonly dealctlRole: iam.Role;

  constructor(scope: Construct, id: string, props: BatchStackProps) {
    super(scope, id, props);
    const { config, lake } = props;
    const names = resourceNamesOf(config);
    const p = config.keyPrefix;
    const removalPolicy = removalPolicyOf(this, config);

    this.emrLogsBucket = new s3.Bucket(this, 'EmrLogs', {
      bucketName: names.emrLogsBucket,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: lake.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: lake.accessLogsBucket,
      serverAccessLogsPrefix: 'emr-logs/',
      lifecycleRules: [
        {
          id: 'expire-emr-logs',
          expiration: Duration.days(config.batch.emrLogDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    this.serviceRole = new iam.Role(this, 'EmrServiceRole', {
      roleName: names.emrServiceRole,
      assumedBy: new iam.ServicePrincipal('elasticmapreduce.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEMRServicePolicy_v2')],
      description: 'EMR service role of the nightly Spark clusters (emr.serviceRole)',
    });
    acknowledge(
      this.serviceRole,
      'IAM4',
      'AmazonEMRServicePolicy_v2 is the AWS-maintained EMR service policy; it is itself scoped to resources tagged for-use-with-amazon-emr-managed-policies.',
      'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2',
    );

    this.instanceRole = new iam.Role(this, 'EmrInstanceRole', {
      roleName: names.emrInstanceRole,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'EC2 role of the EMR nodes: the Spark runner reads and writes the lake prefixes',
    });
    // ARNs from the configured names (not cross-stack tokens): the policies read as the prefixes they grant.
    const bucketArn = (bucket: string) => `arn:${this.partition}:s3:::${bucket}`;
    const lakeBucketArn = bucketArn(names.lakeBucket);
    const artifactsBucketArn = bucketArn(names.artifactsBucket);
    const logsBucketArn = bucketArn(names.emrLogsBucket);
    const lakeObjects = `${lakeBucketArn}/${p}/*`;
    const artifactObjects = `${artifactsBucketArn}/${p}/artifacts/*`;
    const runObjects = `${artifactsBucketArn}/${p}/runs/*`;
    const migrationObjects = `${artifactsBucketArn}/${p}/migration/*`;
    const logObjects = `${logsBucketArn}/${p}/emr-logs/*`;
    this.instanceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LakeTablesReadWrite',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        resources: [lakeObjects],
      }),
    );
    this.instanceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'LakeList',
        actions: ['s3:ListBucket'],
        resources: [lakeBucketArn, artifactsBucketArn],
        conditions: { StringLike: { 's3:prefix': [`${p}/*`, p] } },
      }),
    );
    this.instanceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RunArtifactsRead',
        actions: ['s3:GetObject'],
        resources: [artifactObjects],
      }),
    );
    this.instanceRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StepResultsWrite',
        actions: ['s3:PutObject'],
        resources: [runObjects],
      }),
    );
    this.instanceRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'EmrLogsWrite', actions: ['s3:PutObject'], resources: [logObjects] }),
    );
    lake.key.grantEncryptDecrypt(this.instanceRole);
    this.instanceProfile = new iam.CfnInstanceProfile(this, 'EmrInstanceProfile', {
      instanceProfileName: names.emrInstanceProfile,
      roles: [this.instanceRole.roleName],
    });
    for (const [finding, reason] of [
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.lakeBucket}/${p}/*`,
        'The Spark runner writes any table and dt= partition under the lake prefix; keys are not known in advance.',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.artifactsBucket}/${p}/artifacts/*`,
        'Artifacts are content-addressed (<sha256>/<name>): keys are not known in advance.',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.artifactsBucket}/${p}/runs/*`,
        'Each run writes its step results under runs/<runId>/.',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.emrLogsBucket}/${p}/emr-logs/*`,
        'EMR writes cluster and step logs under <clusterId>/ keys.',
      ],
      [
        'Action::kms:GenerateDataKey*',
        'CDK grantEncryptDecrypt on the one lake key; needed for SSE-KMS writes.',
      ],
      ['Action::kms:ReEncrypt*', 'CDK grantEncryptDecrypt on the one lake key.'],
    ] as const) {
      acknowledge(this.instanceRole, 'IAM5', reason, finding);
    }

    this.securityConfiguration = new emr.CfnSecurityConfiguration(this, 'EmrSecurityConfiguration', {
      name: names.emrSecurityConfiguration,
      securityConfiguration: {
        EncryptionConfiguration: {
          EnableAtRestEncryption: true,
          EnableInTransitEncryption: true,
          AtRestEncryptionConfiguration: {
            S3EncryptionConfiguration: { EncryptionMode: 'SSE-KMS', AwsKmsKey: lake.key.keyArn },
            LocalDiskEncryptionConfiguration: {
              EncryptionKeyProviderType: 'AwsKms',
              AwsKmsKey: lake.key.keyArn,
              EnableEbsEncryption: true,
            },
          },
          InTransitEncryptionConfiguration: {
            // The PEM bundle (docs/runbooks/infrastructure.md "TLS certificates for EMR").
            TLSCertificateConfiguration: {
              CertificateProviderType: 'PEM',
              S3Object: `s3://${names.artifactsBucket}/${p}/emr-tls/certs.zip`,
            },
          },
        },
      },
    });

    this.dealctlRole = new iam.Role(this, 'DealctlRole', {
      roleName: names.dealctlRole,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'The role dealctl runs as: the EMR orchestrator, Glue catalog, run artifacts',
    });
    const account = this.account;
    const region = this.region;
    const partition = this.partition;
    const clusterArn = `arn:${partition}:elasticmapreduce:${region}:${account}:cluster/*`;
    const tagged = { StringEquals: { [`aws:ResourceTag/${EMR_SCOPE_TAG.key}`]: EMR_SCOPE_TAG.value } };
    const resourcesOf = {
      'emr-create': ['*'],
      'emr-cluster': [clusterArn],
      'glue-catalog': [
        `arn:${partition}:glue:${region}:${account}:catalog`,
        `arn:${partition}:glue:${region}:${account}:database/${config.glueDatabase}`,
        `arn:${partition}:glue:${region}:${account}:table/${config.glueDatabase}/*`,
      ],
      'lake-objects': [lakeObjects],
      'artifact-objects': [artifactObjects, runObjects, migrationObjects],
      'log-objects': [logObjects],
      buckets: [lakeBucketArn, artifactsBucketArn, logsBucketArn],
    } as const;
    for (const grant of DEALCTL_ACTIONS) {
      this.dealctlRole.addToPolicy(
        new iam.PolicyStatement({
          sid: grant.sid,
          actions: [...grant.actions],
          resources: [...resourcesOf[grant.scope]],
          ...(grant.scope === 'emr-cluster' ? { conditions: tagged } : {}),
          ...(grant.scope === 'emr-create'
            ? {
                conditions: {
                  StringEquals: { [`aws:RequestTag/${EMR_SCOPE_TAG.key}`]: EMR_SCOPE_TAG.value },
                },
              }
            : {}),
        }),
      );
    }
    this.dealctlRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PassEmrRoles',
        actions: ['iam:PassRole'],
        resources: [this.serviceRole.roleArn, this.instanceRole.roleArn],
      }),
    );
    lake.key.grantEncryptDecrypt(this.dealctlRole);
    for (const [finding, reason] of [
      [
        'Resource::*',
        'RunJobFlow has no resource ARN before the cluster exists; the statement requires the project tag on the request (aws:RequestTag).',
      ],
      [
        `Resource::arn:<AWS::Partition>:elasticmapreduce:<AWS::Region>:<AWS::AccountId>:cluster/*`,
        'Cluster ids are made per run; the statement is limited to clusters tagged project=deal-finder.',
      ],
      [
        `Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/${config.glueDatabase}/*`,
        'Every table of the one lake database (core/lake.ts TABLES).',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.lakeBucket}/${p}/*`,
        'dealctl (DuckDB over S3, ledger, query) reads and writes the lake prefix.',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.artifactsBucket}/${p}/artifacts/*`,
        'Artifacts are content-addressed (<sha256>/<name>).',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.artifactsBucket}/${p}/runs/*`,
        'Step results of each run under runs/<runId>/.',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.artifactsBucket}/${p}/migration/*`,
        'Migration staging files (migration.staging).',
      ],
      [
        `Resource::arn:<AWS::Partition>:s3:::${names.emrLogsBucket}/${p}/emr-logs/*`,
        "dealctl reads a failed step's stderr from the EMR logs.",
      ],
      ['Action::kms:GenerateDataKey*', 'CDK grantEncryptDecrypt on the one lake key.'],
      ['Action::kms:ReEncrypt*', 'CDK grantEncryptDecrypt on the one lake key.'],
    ] as const) {
      acknowledge(this.dealctlRole, 'IAM5', reason, finding);
    }
  }
}
