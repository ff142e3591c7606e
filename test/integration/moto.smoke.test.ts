/**
 * moto server from TypeScript with AWS SDK v3: the calls the platform makes against
 * S3, EMR, Glue and SageMaker succeed and read back what was written.
 */

import { randomUUID } from 'node:crypto';
import {
  AddJobFlowStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { expect, it } from 'vitest';
import { servicesFor } from '../services/index.js';

const svc = await servicesFor('moto');
// One moto instance serves every file of the run (and a `services -- up` instance may outlive it):
// every bucket, database, model… name carries this suffix so reruns and other files never collide.
const run = randomUUID().slice(0, 8);
const bucket = `deal-finder-lake-${run}`;
const database = `deal_finder_${run}`;
const modelName = `price-specialist-${run}`;

function clientConfig() {
  const env = svc.env;
  return {
    endpoint: env.AWS_ENDPOINT_URL as string,
    region: env.AWS_REGION as string,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    },
  };
}

svc.describe('moto smoke (S3, EMR, Glue, SageMaker)', () => {
  it('hands out loopback endpoint and dummy credentials', () => {
    expect(svc.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(svc.env).toMatchObject({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    });
  });

  it('S3: create bucket, put, get, list (path style)', async () => {
    const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'raw/deals/2026-01-01/part-0.json',
        Body: '{"id":1,"price":9.99}\n',
        ContentType: 'application/x-ndjson',
      }),
    );
    const got = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'raw/deals/2026-01-01/part-0.json' }),
    );
    expect(await got.Body?.transformToString()).toBe('{"id":1,"price":9.99}\n');
    expect(got.ContentType).toBe('application/x-ndjson');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'raw/deals/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['raw/deals/2026-01-01/part-0.json']);
    s3.destroy();
  });

  it('EMR: RunJobFlow → DescribeCluster → AddJobFlowSteps → DescribeStep', async () => {
    const emr = new EMRClient(clientConfig());
    const run = await emr.send(
      new RunJobFlowCommand({
        Name: 'deal-finder-nightly',
        ReleaseLabel: 'emr-7.5.0',
        Applications: [{ Name: 'Spark' }],
        Instances: {
          MasterInstanceType: 'm5.xlarge',
          SlaveInstanceType: 'm5.xlarge',
          InstanceCount: 3,
          KeepJobFlowAliveWhenNoSteps: true,
        },
        JobFlowRole: 'EMR_EC2_DefaultRole',
        ServiceRole: 'EMR_DefaultRole',
        LogUri: `s3://${bucket}/emr-logs/`,
        VisibleToAllUsers: true,
      }),
    );
    const clusterId = run.JobFlowId as string;
    expect(clusterId).toMatch(/^j-[A-Z0-9]+$/);
    const cluster = await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }));
    expect(cluster.Cluster?.Name).toBe('deal-finder-nightly');
    expect(cluster.Cluster?.ReleaseLabel).toBe('emr-7.5.0');
    expect(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING']).toContain(cluster.Cluster?.Status?.State);

    const sparkArgs = [
      'spark-submit',
      '--deploy-mode',
      'cluster',
      `s3://${bucket}/jobs/dedupe.py`,
      '--date',
      '2026-01-01',
    ];
    const added = await emr.send(
      new AddJobFlowStepsCommand({
        JobFlowId: clusterId,
        Steps: [
          {
            Name: 'dedupe',
            ActionOnFailure: 'CONTINUE',
            HadoopJarStep: { Jar: 'command-runner.jar', Args: sparkArgs },
          },
          {
            Name: 'features',
            ActionOnFailure: 'CONTINUE',
            HadoopJarStep: {
              Jar: 'command-runner.jar',
              Args: ['spark-submit', `s3://${bucket}/jobs/features.py`],
            },
          },
        ],
      }),
    );
    expect(added.StepIds).toHaveLength(2);
    const step = await emr.send(
      new DescribeStepCommand({ ClusterId: clusterId, StepId: added.StepIds?.[0] as string }),
    );
    expect(step.Step?.Name).toBe('dedupe');
    expect(step.Step?.Config?.Jar).toBe('command-runner.jar');
    expect(step.Step?.Config?.Args).toEqual(sparkArgs);
    // moto never advances steps: the first stays RUNNING, later ones PENDING.
    expect(['PENDING', 'RUNNING']).toContain(step.Step?.Status?.State);
    const steps = await emr.send(new ListStepsCommand({ ClusterId: clusterId }));
    expect(steps.Steps?.map((s) => s.Name).sort()).toEqual(['dedupe', 'features']);
    console.log(
      `[moto] EMR step states: ${steps.Steps?.map((s) => `${s.Name}=${s.Status?.State}`).join(', ')}`,
    );
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [clusterId] }));
    emr.destroy();
  });

  it('Glue: CreateDatabase, CreateTable, BatchCreatePartition, GetPartitions', async () => {
    const glue = new GlueClient(clientConfig());
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database, Description: 'lake' } }));
    const columns = [
      { Name: 'deal_id', Type: 'string' },
      { Name: 'price', Type: 'decimal(10,2)' },
      { Name: 'category', Type: 'string' },
    ];
    const storage = (location: string) => ({
      Columns: columns,
      Location: location,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    await glue.send(
      new CreateTableCommand({
        DatabaseName: database,
        TableInput: {
          Name: 'deals',
          TableType: 'EXTERNAL_TABLE',
          Parameters: { classification: 'parquet' },
          PartitionKeys: [{ Name: 'dt', Type: 'string' }],
          StorageDescriptor: storage(`s3://${bucket}/curated/deals/`),
        },
      }),
    );
    const table = await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'deals' }));
    expect(table.Table?.PartitionKeys?.map((k) => k.Name)).toEqual(['dt']);
    const created = await glue.send(
      new BatchCreatePartitionCommand({
        DatabaseName: database,
        TableName: 'deals',
        PartitionInputList: ['2026-01-01', '2026-01-02'].map((dt) => ({
          Values: [dt],
          StorageDescriptor: storage(`s3://${bucket}/curated/deals/dt=${dt}/`),
        })),
      }),
    );
    expect(created.Errors ?? []).toEqual([]);
    const partitions = await glue.send(
      new GetPartitionsCommand({ DatabaseName: database, TableName: 'deals' }),
    );
    expect(partitions.Partitions?.map((p) => p.Values?.[0]).sort()).toEqual(['2026-01-01', '2026-01-02']);
    for (const partition of partitions.Partitions ?? []) {
      expect(partition.StorageDescriptor?.Location).toBe(
        `s3://${bucket}/curated/deals/dt=${partition.Values?.[0]}/`,
      );
    }
    glue.destroy();
  });

  it('SageMaker: CreateModel, CreateEndpointConfig, CreateEndpoint, DescribeEndpoint', async () => {
    const sm = new SageMakerClient(clientConfig());
    const created = await sm.send(
      new CreateModelCommand({
        ModelName: modelName,
        ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sagemaker-execution',
        PrimaryContainer: {
          Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/pricer:latest',
          ModelDataUrl: `s3://${bucket}/models/pricer.tar.gz`,
        },
      }),
    );
    expect(created.ModelArn).toContain(`model/${modelName}`);
    // moto validates InstanceType against an old enum: ml.g5.* / ml.g6.* are rejected
    // ("Value 'ml.g5.xlarge' at 'instanceType' failed to satisfy constraint"); ml.g4dn.* pass.
    await sm.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: `${modelName}-config`,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: modelName,
            InitialInstanceCount: 1,
            InstanceType: 'ml.g4dn.xlarge',
          },
        ],
      }),
    );
    const endpoint = await sm.send(
      new CreateEndpointCommand({
        EndpointName: modelName,
        EndpointConfigName: `${modelName}-config`,
      }),
    );
    expect(endpoint.EndpointArn).toContain(`endpoint/${modelName}`);
    const described = await sm.send(new DescribeEndpointCommand({ EndpointName: modelName }));
    expect(described.EndpointConfigName).toBe(`${modelName}-config`);
    expect(described.EndpointStatus).toBe('InService');
    sm.destroy();
  });
});
