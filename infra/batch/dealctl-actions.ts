/**
 * What dealctl may do in AWS, listed from the SDK commands the code sends (pipelines/emr,
 * pipelines/glue, pipelines/s3, migration/, core/aws.ts). infra/batch/iam-coverage.test.ts
 * collects those commands from the sources and fails when one is not granted here, so a new
 * `new XxxCommand(` cannot ship without its permission. No wildcard actions.
 */
export type GrantScope =
  | 'emr-create'
  | 'emr-cluster'
  | 'glue-catalog'
  | 'lake-objects'
  | 'artifact-objects'
  | 'log-objects'
  | 'buckets';

export interface ActionGrant {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly scope: GrantScope;
}

export const DEALCTL_ACTIONS: readonly ActionGrant[] = [
  // pipelines/emr/orchestrator.ts: a transient cluster per run (tagged project=deal-finder).
  {
    sid: 'EmrStartCluster',
    actions: ['elasticmapreduce:RunJobFlow', 'elasticmapreduce:AddTags'],
    scope: 'emr-create',
  },
  // pipelines/emr/orchestrator.ts, poller.ts, engine.ts: steps, polling, cancel, terminate.
  {
    sid: 'EmrDriveCluster',
    actions: [
      'elasticmapreduce:AddJobFlowSteps',
      'elasticmapreduce:DescribeCluster',
      'elasticmapreduce:ListSteps',
      'elasticmapreduce:CancelSteps',
      'elasticmapreduce:TerminateJobFlows',
    ],
    scope: 'emr-cluster',
  },
  // pipelines/glue/catalog.ts: create-or-update database and tables, add partitions.
  {
    sid: 'GlueCatalog',
    actions: [
      'glue:GetDatabase',
      'glue:CreateDatabase',
      'glue:GetTable',
      'glue:CreateTable',
      'glue:UpdateTable',
      'glue:BatchCreatePartition',
    ],
    scope: 'glue-catalog',
  },
  // DuckDB over S3 (pipelines/s3/duckdb-s3.ts), the ledger, query: the lake tables.
  { sid: 'LakeObjects', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], scope: 'lake-objects' },
  // pipelines/s3/artifacts.ts (HeadObject, PutObject), step results (GetObject), migration/staging.ts.
  { sid: 'RunArtifacts', actions: ['s3:GetObject', 's3:PutObject'], scope: 'artifact-objects' },
  // pipelines/emr/logs.ts: a failed step's stderr.
  { sid: 'EmrLogsRead', actions: ['s3:GetObject'], scope: 'log-objects' },
  // core/aws.ts HeadBucket (the bucket check) and listing the lake; HeadObject of a missing key
  // answers 404 rather than 403 only with ListBucket.
  { sid: 'Buckets', actions: ['s3:ListBucket'], scope: 'buckets' },
];

/**
 * The IAM action an SDK command needs, where it is not `<prefix>:<CommandName>`: S3's Head*
 * calls are authorised as the Get/List they resemble; the EMR client's IAM prefix is
 * elasticmapreduce.
 */
export const IAM_PREFIX_OF_CLIENT: Readonly<Record<string, string>> = {
  emr: 'elasticmapreduce',
  glue: 'glue',
  s3: 's3',
};
export const IAM_ACTION_OF_COMMAND: Readonly<Record<string, string>> = {
  's3:HeadObject': 's3:GetObject',
  's3:HeadBucket': 's3:ListBucket',
};

/** `emr` + `RunJobFlow` → `elasticmapreduce:RunJobFlow`. */
export function iamActionOf(client: string, command: string): string {
  const prefix = IAM_PREFIX_OF_CLIENT[client];
  if (!prefix)
    throw new Error(`no IAM prefix known for @aws-sdk/client-${client}: add it to IAM_PREFIX_OF_CLIENT`);
  const action = `${prefix}:${command}`;
  return IAM_ACTION_OF_COMMAND[action] ?? action;
}
