import type { StackProps } from 'aws-cdk-lib';
import type { InfraEnv } from '../config.ts';

export interface ObservabilityStackProps extends StackProps {
  /**
   * The environment's config: log retention (@default 30 days; dev 14, prod 90), the alarm
   * e-mail (@default none: subscribe to the topic yourself) and the removal policy
   * (@default retain).
   */
  readonly config: InfraEnv;
}
