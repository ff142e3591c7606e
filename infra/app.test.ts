import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp, lakeRootOf } from './app.ts';
import { ENVIRONMENT_NAMES, infraEnvOf } from './config.ts';

// One app for every environment (synth is the slow part on a shared machine).
const { stacks } = buildApp({ outdir: undefined });
const dev = stacks.dev;
const prod = stacks.prod;
if (!dev || !prod) throw new Error('buildApp built no dev/prod stacks');

describe('infra app', () => {
  it('has zero unacknowledged cdk-nag AwsSolutions findings in every stack of every environment', () => {
    for (const name of ENVIRONMENT_NAMES) {
      const s = stacks[name];
      expect(s).toBeDefined();
      for (const stack of [s?.network, s?.lake, s?.catalog, s?.batch, s?.observability]) {
        // cdk-nag v3 makes Template.fromStack throw while any finding is unacknowledged.
        expect(() => Template.fromStack(stack as NonNullable<typeof stack>)).not.toThrow();
      }
    }
  });

  it('encrypts every lake bucket with the rotating KMS key, blocks public access and versions', () => {
    const t = Template.fromStack(prod.lake);
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const name of ['deal-finder-prod-lake', 'deal-finder-prod-artifacts', 'deal-finder-prod-models']) {
      t.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: name,
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            Match.objectLike({
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            }),
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: Match.anyValue() },
      });
    }
    // Every bucket (5 incl. access logs) denies non-TLS requests.
    const tlsOnly = t.findResources('AWS::S3::BucketPolicy', {
      Properties: {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      },
    });
    expect(Object.keys(tlsOnly)).toHaveLength(4);
  });

  it('moves raw archives (the raw/ prefix of the lake root) to Standard-IA and Glacier', () => {
    Template.fromStack(prod.lake).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'deal-finder-prod-lake',
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'raw-archive',
            Prefix: 'deal-finder/raw/',
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER', TransitionInDays: 90 },
            ],
          }),
        ]),
      },
    });
  });

  it('retains data unless the environment allows destroy AND the explicit switch is given', () => {
    // dev says removal: destroy, but this app was built without dealfinder:allowDestroy.
    const t = Template.fromStack(dev.lake);
    for (const bucket of Object.values(t.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
    expect(infraEnvOf('dev').removal).toBe('destroy');
  });

  it('grants the EMR instance role the lake prefixes only, by name', () => {
    const t = Template.fromStack(prod.batch);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [Match.objectLike({ Ref: Match.stringLikeRegexp('EmrInstanceRole') })],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'LakeTablesReadWrite',
            Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
            Resource: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':s3:::deal-finder-prod-lake/deal-finder/*'],
              ],
            },
          }),
          Match.objectLike({
            Sid: 'RunArtifactsRead',
            Action: 's3:GetObject',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':s3:::deal-finder-prod-artifacts/deal-finder/artifacts/*',
                ],
              ],
            },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::IAM::InstanceProfile', {
      InstanceProfileName: 'deal-finder-prod-emr-instance',
    });
  });

  it('encrypts EMR at rest (S3 and local disks with the lake key) and in transit', () => {
    const t = Template.fromStack(prod.batch);
    t.hasResourceProperties('AWS::EMR::SecurityConfiguration', {
      Name: 'deal-finder-prod-emr-security',
      SecurityConfiguration: {
        EncryptionConfiguration: Match.objectLike({
          EnableAtRestEncryption: true,
          EnableInTransitEncryption: true,
          AtRestEncryptionConfiguration: {
            S3EncryptionConfiguration: Match.objectLike({ EncryptionMode: 'SSE-KMS' }),
            LocalDiskEncryptionConfiguration: Match.objectLike({ EncryptionKeyProviderType: 'AwsKms' }),
          },
        }),
      },
    });
  });

  it('scopes the EMR grants of the dealctl role to clusters tagged for the project', () => {
    const t = Template.fromStack(prod.batch);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'EmrStartCluster',
            Resource: '*',
            Condition: { StringEquals: { 'aws:RequestTag/project': 'deal-finder' } },
          }),
          Match.objectLike({
            Sid: 'EmrDriveCluster',
            Condition: { StringEquals: { 'aws:ResourceTag/project': 'deal-finder' } },
          }),
        ]),
      },
    });
  });

  it('points the catalog at the lake bucket of its environment', () => {
    expect(lakeRootOf(infraEnvOf('prod'))).toBe('s3://deal-finder-prod-lake/deal-finder');
    Template.fromStack(prod.catalog).hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: 'deal_finder', LocationUri: 's3://deal-finder-prod-lake/deal-finder/' },
    });
  });

  it("keeps dealctl logs for the environment's retention and alarms on error entries through SNS", () => {
    expect(Template.fromStack(dev.observability).findResources('AWS::Logs::LogGroup')).toSatisfy(
      (groups: Record<string, { Properties: { RetentionInDays: number } }>) =>
        Object.values(groups).every((g) => g.Properties.RetentionInDays === 14),
    );
    const t = Template.fromStack(prod.observability);
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/deal-finder-prod/dealctl',
      RetentionInDays: 90,
    });
    t.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ $.level >= 50 }' });
    t.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'deal-finder-prod-alarms',
      KmsMasterKeyId: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'deal-finder-prod-dealctl-errors',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('puts the VPC on private subnets only, with the S3 gateway, the interface endpoints and flow logs', () => {
    const t = Template.fromStack(prod.network);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 2);
    t.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    t.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.40.0.0/16',
      Tags: Match.arrayWith([{ Key: 'for-use-with-amazon-emr-managed-policies', Value: 'true' }]),
    });
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    expect(
      Object.keys(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })),
    ).toHaveLength(prod.config.network.interfaceEndpoints.length);
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });
});
