/**
 * cfn-lint over every synthesized template of every environment. Under CI=true a cfn-lint that
 * cannot be provisioned fails the suite; on a developer machine without Python it is skipped
 * with the reason.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { ENVIRONMENT_NAMES } from './config.ts';
import { type CfnLint, provisionCfnLint } from './support/cfn-lint.ts';

const outdir = mkdtempSync(path.join(os.tmpdir(), 'dealfinder-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

let cfnLint: CfnLint | undefined;
let unavailable = '';
try {
  cfnLint = provisionCfnLint();
} catch (e) {
  if (process.env.CI === 'true') throw e;
  unavailable = (e as Error).message;
}

describe('cfn-lint', () => {
  it.skipIf(!cfnLint)(
    `passes on every synthesized template ${unavailable ? `(skipped: ${unavailable})` : ''}`,
    () => {
      buildApp({ outdir }).app.synth();
      const templates = readdirSync(outdir)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => path.join(outdir, f));
      // Network, Lake, Catalog, Batch, Observability per environment.
      expect(templates).toHaveLength(5 * ENVIRONMENT_NAMES.length);
      const result = cfnLint?.lint(templates);
      expect(result?.output).toBe('');
      expect(result?.status).toBe(0);
    },
    300_000,
  );
});
