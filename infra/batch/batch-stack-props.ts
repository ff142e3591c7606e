import type { StackProps } from 'aws-cdk-lib';
import type { InfraEnv } from '../config.ts';
import type { LakeStack } from '../lake/lake-stack.ts';

export interface BatchStackProps extends StackProps {
  /**
   * The environment's config: role, bucket and security-configuration names (infra/config.ts
   * resourceNamesOf), EMR log retention (@default 30 days; dev 14, prod 90), removal policy
   * (@default retain).
   */
  readonly config: InfraEnv;
  /** The lake's buckets and key the roles are granted on. */
  readonly lake: LakeStack;
}
