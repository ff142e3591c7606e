import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { ENVIRONMENT_NAMES, infraEnvOf, resourceNamesOf } from './config.ts';
import { ALLOW_DESTROY_CONTEXT, removalPolicyOf } from './removal.ts';

describe('infra config', () => {
  it('validates every checked-in environment', () => {
    for (const name of ENVIRONMENT_NAMES) expect(infraEnvOf(name).name).toBe(name);
    expect(infraEnvOf('prod').removal).toBe('retain');
    expect(infraEnvOf('prod').lake.rawToGlacierDays).toBe(90);
  });

  it('refuses an unknown environment and invalid values with a ConfigError naming the path', () => {
    expect(() => infraEnvOf('staging')).toThrow(ConfigError);
    try {
      infraEnvOf('dev', { namePrefix: 'Not_A_Bucket' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.map((p) => p.path)).toContain('namePrefix');
    }
  });

  it('derives every physical name from the prefix', () => {
    const names = resourceNamesOf(infraEnvOf('prod'));
    expect(names.lakeBucket).toBe('deal-finder-prod-lake');
    expect(names.emrInstanceProfile).toBe('deal-finder-prod-emr-instance');
    expect(names.glueDatabase).toBe('deal_finder');
  });

  it('destroys only when the environment allows it and the explicit switch is set', () => {
    const plain = new Stack(new App(), 'S');
    const switched = new Stack(new App({ context: { [ALLOW_DESTROY_CONTEXT]: 'true' } }), 'S');
    expect(removalPolicyOf(plain, infraEnvOf('dev'))).toBe(RemovalPolicy.RETAIN);
    expect(removalPolicyOf(switched, infraEnvOf('dev'))).toBe(RemovalPolicy.DESTROY);
    expect(removalPolicyOf(switched, infraEnvOf('prod'))).toBe(RemovalPolicy.RETAIN);
  });
});
