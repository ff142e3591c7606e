/**
 * EMR request inputs as pure functions of the config and the run: RunJobFlow for a transient
 * cluster per run, AddJobFlowSteps for an existing one. The orchestrator sends exactly these;
 * `--dry-run` prints exactly these.
 */
import type {
  ActionOnFailure,
  AddJobFlowStepsCommandInput,
  InstanceFleetConfig,
  InstanceTypeConfig,
  RunJobFlowCommandInput,
  StepConfig,
} from '@aws-sdk/client-emr';
import { s3Uri } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import { emrStepArgs } from './spark-submit.ts';

export type EmrConfig = Pick<Config, 'aws' | 'emr'>;

export interface EmrStepsSpec {
  readonly runId: string;
  readonly date: string;
  /** Job names in dependency order (one EMR step each, run one after the other). */
  readonly jobs: readonly string[];
  /** s3:// URI of the uploaded runner. */
  readonly runnerUri: string;
  /** s3:// URI of the uploaded plans JSON. */
  readonly plansUri: string;
  /** Folder (s3:// URI) for the runner's per-job result JSON: <resultsUri><job>.json. Omitted: no --result. */
  readonly resultsUri?: string | undefined;
}

/** s3://<bucket>/<prefix>/runs/<runId>/results/ — where each step's runner writes <job>.json. */
export function resultsUriOf(config: EmrConfig, runId: string): string {
  return s3Uri(config.aws.bucket, `${config.aws.prefix}/runs/${runId}/results/`);
}

/** <emr.logUri>, default s3://<aws.bucket>/<aws.prefix>/emr-logs/ (always with a trailing slash). */
export function logUriOf(config: EmrConfig): string {
  const uri = config.emr.logUri ?? s3Uri(config.aws.bucket, `${config.aws.prefix}/emr-logs/`);
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** Step name: the job and the run, so ListSteps on a shared cluster tells runs apart. */
export function stepName(job: string, runId: string): string {
  return `${job} [${runId}]`.slice(0, 256);
}

/**
 * One command-runner.jar step per job. A transient cluster terminates on a failure (nothing else
 * can use it, and the logs are pushed to S3 at termination); on a shared cluster the failed run's
 * remaining steps are cancelled and the cluster keeps serving others (CANCEL_AND_WAIT — note that
 * EMR cancels every pending step of the cluster, not only this run's).
 */
export function stepConfigs(config: EmrConfig, spec: EmrStepsSpec, transient: boolean): StepConfig[] {
  const action: ActionOnFailure = transient ? 'TERMINATE_CLUSTER' : 'CANCEL_AND_WAIT';
  return spec.jobs.map((job) => ({
    Name: stepName(job, spec.runId),
    ActionOnFailure: action,
    HadoopJarStep: {
      Jar: 'command-runner.jar',
      Args: emrStepArgs({
        runner: spec.runnerUri,
        plans: spec.plansUri,
        job,
        result: spec.resultsUri ? `${spec.resultsUri}${job}.json` : undefined,
        deployMode: config.emr.deployMode,
        conf: config.emr.sparkConf,
      }),
    },
  }));
}

function typeConfigs(types: readonly string[], ebsGb: number, spot: boolean): InstanceTypeConfig[] {
  return types.map((InstanceType) => ({
    InstanceType,
    WeightedCapacity: 1,
    ...(spot ? { BidPriceAsPercentageOfOnDemandPrice: 100 } : {}),
    ...(ebsGb > 0
      ? {
          EbsConfiguration: {
            EbsOptimized: true,
            EbsBlockDeviceConfigs: [
              { VolumeSpecification: { VolumeType: 'gp3', SizeInGB: ebsGb }, VolumesPerInstance: 1 },
            ],
          },
        }
      : {}),
  }));
}

/** Master and core On-Demand (HDFS and the driver must not vanish), task capacity on Spot. */
export function instanceFleets(config: EmrConfig): InstanceFleetConfig[] {
  const e = config.emr;
  const fleets: InstanceFleetConfig[] = [
    {
      Name: 'master',
      InstanceFleetType: 'MASTER',
      TargetOnDemandCapacity: 1,
      InstanceTypeConfigs: typeConfigs(e.masterInstanceTypes, e.ebsVolumeGb, false),
    },
    {
      Name: 'core',
      InstanceFleetType: 'CORE',
      TargetOnDemandCapacity: e.coreOnDemandCapacity,
      InstanceTypeConfigs: typeConfigs(e.coreInstanceTypes, e.ebsVolumeGb, false),
    },
  ];
  if (e.taskSpotCapacity > 0 && e.taskInstanceTypes.length > 0) {
    fleets.push({
      Name: 'task-spot',
      InstanceFleetType: 'TASK',
      TargetSpotCapacity: e.taskSpotCapacity,
      InstanceTypeConfigs: typeConfigs(e.taskInstanceTypes, e.ebsVolumeGb, true),
      LaunchSpecifications: {
        SpotSpecification: {
          TimeoutDurationMinutes: e.spotTimeoutMinutes,
          TimeoutAction: 'SWITCH_TO_ON_DEMAND',
          AllocationStrategy: 'price-capacity-optimized',
        },
      },
    });
  }
  return fleets;
}

/** The RunJobFlow input of the transient cluster of one run (steps included). */
export function runJobFlowInput(config: EmrConfig, spec: EmrStepsSpec): RunJobFlowCommandInput {
  const e = config.emr;
  return {
    Name: `${e.clusterName} ${spec.date} [${spec.runId}]`.slice(0, 256),
    ReleaseLabel: e.releaseLabel,
    LogUri: logUriOf(config),
    Applications: [{ Name: 'Spark' }],
    // Spark SQL's metastore is the Glue Data Catalog (the tables pipelines/glue maintains).
    Configurations: [
      {
        Classification: 'spark-hive-site',
        Properties: {
          'hive.metastore.client.factory.class':
            'com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory',
        },
      },
    ],
    Instances: {
      InstanceFleets: instanceFleets(config),
      ...(e.subnetIds.length > 0 ? { Ec2SubnetIds: [...e.subnetIds] } : {}),
      // Terminate when the last step is done; a failed step terminates it too (TERMINATE_CLUSTER).
      KeepJobFlowAliveWhenNoSteps: false,
      TerminationProtected: false,
    },
    // Safety net should anything keep it alive (e.g. steps cancelled by hand): idle → terminate.
    AutoTerminationPolicy: { IdleTimeout: e.idleTimeoutSeconds },
    StepConcurrencyLevel: 1,
    Steps: stepConfigs(config, spec, true),
    ServiceRole: e.serviceRole,
    JobFlowRole: e.jobFlowRole,
    VisibleToAllUsers: true,
    Tags: Object.entries({ ...e.tags, 'dealfinder:run-id': spec.runId, 'dealfinder:date': spec.date })
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([Key, Value]) => ({ Key, Value })),
  };
}

export function addJobFlowStepsInput(
  config: EmrConfig,
  clusterId: string,
  spec: EmrStepsSpec,
): AddJobFlowStepsCommandInput {
  return { JobFlowId: clusterId, Steps: stepConfigs(config, spec, false) };
}
