/**
 * `npm run synth` and `npm run infra -- <command>`: synth every environment in-process to
 * cdk.out/ (offline); diff and deploy one environment through the CDK CLI; print the dealctl
 * config of an environment.
 *
 *   npm run synth
 *   npm run infra -- diff --env dev
 *   npm run infra -- deploy --env prod
 *   npm run infra -- deploy --env dev --allow-destroy
 *   npm run infra -- config --env prod > dealfinder.prod.json
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { buildApp, stackIdOf } from './app.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName, infraEnvOf } from './config.ts';
import { dealctlConfigOf } from './dealctl-config.ts';
import { ALLOW_DESTROY_CONTEXT } from './removal.ts';

const USAGE = `usage: infra synth [--env E] | diff --env E | deploy --env E [--allow-destroy] | config --env E
environments: ${ENVIRONMENT_NAMES.join(', ')}`;

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { env: { type: 'string' }, 'allow-destroy': { type: 'boolean', default: false } },
  });
  const [command] = positionals;
  const env = values.env;
  if (env !== undefined) infraEnvOf(env); // validates the name (ConfigError otherwise)
  const needEnv = (): EnvironmentName => {
    if (!env) throw new Error(`--env is required for ${command}\n${USAGE}`);
    return env as EnvironmentName;
  };
  switch (command) {
    case 'synth': {
      const environments = env ? [env as EnvironmentName] : ENVIRONMENT_NAMES;
      const assembly = buildApp({ environments, outdir: 'cdk.out' }).app.synth();
      for (const s of assembly.stacks)
        process.stderr.write(`synth: ${s.stackName} → cdk.out/${s.templateFile}\n`);
      return 0;
    }
    case 'config':
      process.stdout.write(`${JSON.stringify(dealctlConfigOf(infraEnvOf(needEnv())), null, 2)}\n`);
      return 0;
    case 'diff':
    case 'deploy': {
      const name = needEnv();
      const args = [
        'cdk',
        command,
        '--app',
        'npx tsx infra/main.ts',
        '--context',
        `${ALLOW_DESTROY_CONTEXT}=${values['allow-destroy'] ? 'true' : 'false'}`,
        stackIdOf(name, '*'),
        ...(command === 'deploy' ? ['--require-approval', 'broadening'] : []),
      ];
      const r = spawnSync('npx', args, {
        stdio: 'inherit',
        env: { ...process.env, DEALFINDER_INFRA_ENV: name },
      });
      return r.status ?? 1;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  const err = e as Error & { hint?: string };
  process.stderr.write(`infra: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}\n`);
  process.exitCode = 2;
}
