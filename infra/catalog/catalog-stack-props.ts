import type { StackProps } from 'aws-cdk-lib';
import type { InfraEnv } from '../config.ts';

export interface CatalogStackProps extends StackProps {
  /** The environment's config: the Glue database name (@default deal_finder in prod, deal_finder_dev in dev). */
  readonly config: InfraEnv;
  /** Lake root the tables point at, s3://<lake bucket>/<keyPrefix> (the LakeStack's bucket). */
  readonly lakeRoot: string;
}
