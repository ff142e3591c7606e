import type { StackProps } from 'aws-cdk-lib';
import type { InfraEnv } from '../config.ts';

export interface NetworkStackProps extends StackProps {
  /**
   * The environment's config: CIDR (@default 10.40.0.0/16), availability zones (@default 2), the
   * interface endpoints (@default Glue, EMR, SageMaker API and runtime, Secrets Manager, ECR,
   * CloudWatch Logs, STS; each costs per AZ-hour), flow-log retention (the log retention).
   */
  readonly config: InfraEnv;
}
