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
 *   npm run infra -- nag            # cdk-nag findings before and after the acknowledgements
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, stackIdOf } from './app.ts';
import { ENVIRONMENT_NAMES, type EnvironmentName, infraEnvOf } from './config.ts';
import { dealctlConfigOf } from './dealctl-config.ts';
import { findingsOfReport, NAG_UNACKNOWLEDGED_CONTEXT } from './nag.ts';
import { ALLOW_DESTROY_CONTEXT } from './removal.ts';

const USAGE = `usage: infra synth [--env E] | nag [--env E] | diff --env E | deploy --env E [--allow-destroy] | config --env E
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
    case 'nag': {
      const environments = env ? [env as EnvironmentName] : ENVIRONMENT_NAMES;
      const count = (unacknowledged: boolean) => {
        const outdir = mkdtempSync(path.join(os.tmpdir(), 'dealfinder-nag-'));
        try {
          const context = { [NAG_UNACKNOWLEDGED_CONTEXT]: unacknowledged };
          try {
            buildApp({ environments, outdir, context }).app.synth();
            return [];
          } catch {
            return findingsOfReport(
              JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')),
            );
          }
        } finally {
          rmSync(outdir, { recursive: true, force: true });
        }
      };
      const before = count(true);
      const after = count(false);
      const byRule = new Map<string, number>();
      for (const f of before) {
        const rule = f.rule.split('[')[0] ?? f.rule;
        byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
      }
      const rules = [...byRule].map(([r, n]) => `${r} ×${n}`).join(', ');
      process.stdout.write(`environments: ${environments.join(', ')}\n`);
      process.stdout.write(`findings without acknowledgements: ${before.length} (${rules})\n`);
      process.stdout.write(`unacknowledged findings: ${after.length}\n`);
      return after.length === 0 ? 0 : 1;
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
