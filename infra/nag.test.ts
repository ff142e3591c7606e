import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { acknowledgementsOf, findingsOfReport, NAG_UNACKNOWLEDGED_CONTEXT } from './nag.ts';

const outdir = mkdtempSync(path.join(os.tmpdir(), 'dealfinder-nag-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk-nag acknowledgements', () => {
  it('each answers a real finding (none stale), and every finding has one with a reason', () => {
    const { app } = buildApp({ outdir, context: { [NAG_UNACKNOWLEDGED_CONTEXT]: true } });
    expect(() => app.synth()).toThrow();
    const findings = findingsOfReport(
      JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')),
    );
    const acks = acknowledgementsOf(app);
    expect(findings.length).toBeGreaterThan(0);
    const covers = (a: { path: string; rule: string }, f: { path: string; rule: string }) =>
      a.rule === f.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`));
    const unanswered = findings.filter((f) => !acks.some((a) => covers(a, f)));
    const stale = acks.filter((a) => !findings.some((f) => covers(a, f)));
    expect(unanswered).toEqual([]);
    expect(stale).toEqual([]);
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(20);
    // The figures in docs/runbooks/infrastructure.md (dev + prod).
    expect(findings).toHaveLength(52);
  });
});
