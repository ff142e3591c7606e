import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../core/config.ts';
import { buildApp } from './app.ts';
import { dealctlConfigOf } from './dealctl-config.ts';

const { stacks } = buildApp({ environments: ['prod'] });
const prod = stacks.prod;
if (!prod) throw new Error('no prod stacks');
const config = ConfigSchema.parse(dealctlConfigOf(prod.config));
const lake = Template.fromStack(prod.lake);
const batch = Template.fromStack(prod.batch);
const catalog = Template.fromStack(prod.catalog);

describe('dealctl config from the stacks', () => {
  it('names buckets the lake and batch stacks create', () => {
    lake.hasResourceProperties('AWS::S3::Bucket', { BucketName: config.aws.bucket });
    lake.hasResourceProperties('AWS::S3::Bucket', { BucketName: new URL(config.lake.root).host });
    const logBucket = new URL(config.emr.logUri ?? '').host;
    batch.hasResourceProperties('AWS::S3::Bucket', { BucketName: logBucket });
    expect(config.emr.logUri).toBe(`s3://${logBucket}/${config.aws.prefix}/emr-logs/`);
  });

  it('names the EMR roles and instance profile the batch stack creates', () => {
    batch.hasResourceProperties('AWS::IAM::Role', { RoleName: config.emr.serviceRole });
    batch.hasResourceProperties('AWS::IAM::InstanceProfile', { InstanceProfileName: config.emr.jobFlowRole });
  });

  it('names the Glue database the catalog stack creates', () => {
    catalog.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: config.glue.database } });
  });
});
