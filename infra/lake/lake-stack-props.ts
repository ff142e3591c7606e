import type { StackProps } from 'aws-cdk-lib';
import type { InfraEnv } from '../config.ts';

export interface LakeStackProps extends StackProps {
  /**
   * The environment's validated config (infra/config.ts). Its values set the bucket names
   * (`<namePrefix>-lake`, `-artifacts`, `-models`, `-access-logs`), the raw-archive lifecycle
   * (@default 30 days to Standard-IA, 90 days to Glacier), the noncurrent-version expiry
   * (@default 30 days) and the removal policy (@default retain; destroy only with the
   * `dealfinder:allowDestroy` switch).
   */
  readonly config: InfraEnv;
}
