/**
 * cfn-lint (PyPI) for the synthesized templates, in a small cached virtualenv:
 * `<DEALFINDER_CACHE_DIR or .cache>/infra/cfn-lint-<version>/` with a marker file once complete.
 * It is built under a temporary name and renamed into place, so an interrupted or concurrent
 * build never leaves a half venv behind (cfn-lint is run as `python -c`, so no console-script
 * shebang depends on the folder name).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const CFN_LINT_VERSION = '1.58.0';
const MARKER = '.dealfinder-complete';
const RUN = 'import sys; from cfnlint.runner import main; sys.exit(main())';

export interface CfnLint {
  readonly python: string;
  /** Lints the templates; exit code 0 = clean (cfn-lint: 2 errors, 4 warnings, 8 informational). */
  lint(templates: readonly string[]): { status: number; output: string };
}

export function cfnLintVenvDir(cacheRoot = process.env.DEALFINDER_CACHE_DIR ?? '.cache'): string {
  return path.resolve(cacheRoot, 'infra', `cfn-lint-${CFN_LINT_VERSION}`);
}

function lintWith(python: string): CfnLint {
  return {
    python,
    lint(templates) {
      const r = spawnSync(python, ['-c', RUN, '--', ...templates], { encoding: 'utf8', timeout: 300_000 });
      return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
    },
  };
}

/** The cached cfn-lint, building it first when missing (needs python3 and the PyPI index). */
export function provisionCfnLint(venv = cfnLintVenvDir()): CfnLint {
  const python = path.join(venv, 'bin', 'python');
  if (existsSync(path.join(venv, MARKER))) return lintWith(python);
  mkdirSync(path.dirname(venv), { recursive: true });
  const tmp = `${venv}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const step = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`cfn-lint venv: ${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
    }
  };
  step('python3', ['-m', 'venv', tmp]);
  step(path.join(tmp, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', `cfn-lint==${CFN_LINT_VERSION}`]);
  writeFileSync(path.join(tmp, MARKER), `cfn-lint ${CFN_LINT_VERSION}\n`);
  try {
    renameSync(tmp, venv);
  } catch (e) {
    // Another process finished first: use its venv.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(venv, MARKER))) throw e;
  }
  return lintWith(python);
}
