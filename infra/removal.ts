/**
 * Destructive removal only behind an explicit switch: an environment whose config says
 * `removal: 'destroy'` gets RemovalPolicy.DESTROY only when the app is also given the context
 * value `dealfinder:allowDestroy=true` (`npm run infra -- deploy --env dev --allow-destroy`).
 * Without the switch everything is retained, so a forgotten flag can never delete data.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { InfraEnv } from './config.ts';

export const ALLOW_DESTROY_CONTEXT = 'dealfinder:allowDestroy';

export function destroyAllowed(scope: Construct): boolean {
  const value: unknown = scope.node.tryGetContext(ALLOW_DESTROY_CONTEXT);
  return value === true || value === 'true';
}

export function removalPolicyOf(scope: Construct, env: InfraEnv): RemovalPolicy {
  return env.removal === 'destroy' && destroyAllowed(scope) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
