/**
 * S3, EMR and Glue clients with in-process mocks (aws-sdk-client-mock), for unit tests of the EMR
 * orchestration's branches. The integrations themselves are tested against moto
 * (test/integration/emr*.test.ts); these mocks only reach states moto cannot (steps that progress,
 * fail or get cancelled).
 */
import {
  CancelStepsCommand,
  DescribeClusterCommand,
  EMRClient,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../core/aws.ts';

export function mockedAws(clusterId: string) {
  const creds = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const s3 = new S3Client(creds);
  const emr = new EMRClient(creds);
  const glue = new GlueClient(creds);
  const clients: AwsClients = {
    settings: {
      region: 'us-east-1',
      endpoint: undefined,
      forcePathStyle: false,
      maxAttempts: 1,
      retryMode: 'standard',
    },
    s3,
    emr,
    glue,
    destroy: () => undefined,
  };
  const s3Mock = mockClient(s3);
  const emrMock = mockClient(emr);
  const glueMock = mockClient(glue);
  /**
   * Back to the happy-path defaults: nothing uploaded yet, the Glue database there but no tables,
   * a RUNNING cluster `clusterId` from RunJobFlow, terminate and cancel accepted. Steps
   * (ListSteps) and runner results (GetObject) are up to each test.
   */
  function reset(): void {
    s3Mock.reset();
    emrMock.reset();
    glueMock.reset();
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound' }));
    s3Mock.on(PutObjectCommand).resolves({});
    glueMock.on(GetDatabaseCommand).resolves({ Database: { Name: 'deal_finder' } });
    glueMock
      .on(GetTableCommand)
      .rejects(Object.assign(new Error('nope'), { name: 'EntityNotFoundException' }));
    glueMock.on(CreateTableCommand).resolves({});
    glueMock.on(CreateDatabaseCommand).resolves({});
    glueMock.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
    emrMock.on(RunJobFlowCommand).resolves({ JobFlowId: clusterId });
    emrMock.on(DescribeClusterCommand).resolves({ Cluster: { Id: clusterId, Status: { State: 'RUNNING' } } });
    emrMock.on(TerminateJobFlowsCommand).resolves({});
    emrMock.on(CancelStepsCommand).resolves({ CancelStepsInfoList: [] });
  }
  return { clients, s3Mock, emrMock, glueMock, reset };
}
