/**
 * Where dealctl's logs go and who hears about failures: the log group the dealctl tasks write to
 * (pino JSON lines, core/logging.ts), with the environment's retention; a metric of its error and
 * fatal entries (pino level ≥ 50); an alarm on that metric; and the KMS-encrypted, TLS-only SNS
 * topic every alarm of the platform notifies.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { removalPolicyOf } from '../removal.ts';
import type { ObservabilityStackProps } from './observability-stack-props.ts';

/** Metric namespace of the platform's own metrics. */
export const METRIC_NAMESPACE = 'DealFinder';

export class ObservabilityStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly dealctlLogGroup: logs.LogGroup;
  readonly dealctlErrorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(this, config);

    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: `Deal Finder ${config.name}: alarm topic`,
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch alarms publish to an encrypted topic only when they may use its key.
    topicKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `${config.namePrefix}-alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (config.observability.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.observability.alarmEmail));
    }

    this.dealctlLogGroup = new logs.LogGroup(this, 'DealctlLogs', {
      logGroupName: `/${config.namePrefix}/dealctl`,
      retention: config.observability.logRetentionDays as logs.RetentionDays,
      removalPolicy,
    });
    const errors = new logs.MetricFilter(this, 'DealctlErrors', {
      logGroup: this.dealctlLogGroup,
      // pino levels: 50 error, 60 fatal.
      filterPattern: logs.FilterPattern.numberValue('$.level', '>=', 50),
      metricNamespace: METRIC_NAMESPACE,
      metricName: `${config.name}-dealctl-errors`,
      metricValue: '1',
      defaultValue: 0,
    });
    this.dealctlErrorsAlarm = new cloudwatch.Alarm(this, 'DealctlErrorsAlarm', {
      alarmName: `${config.namePrefix}-dealctl-errors`,
      alarmDescription: 'dealctl logged an error or fatal entry (a failed run, stage or request)',
      metric: errors.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.dealctlErrorsAlarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
  }
}
