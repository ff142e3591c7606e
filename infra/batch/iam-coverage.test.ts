/**
 * IAM from what the code calls: every `new XxxCommand(` of an @aws-sdk client in the production
 * sources must be granted to the dealctl role, and no statement of it may use a wildcard action.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { iamActionOf } from './dealctl-actions.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Production code that talks to AWS (tests, infra itself and test/ excluded). */
const SOURCE_DIRS = ['core', 'pipelines', 'migration', 'streaming', 'jobs', 'ingest', 'catalog', 'cli'];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

interface SentCommand {
  readonly client: string;
  readonly command: string;
  readonly file: string;
}

/** Commands each file constructs, attributed to the client package it imports them from. */
function collectSdkCommands(files: readonly string[]): SentCommand[] {
  const found: SentCommand[] = [];
  const importRe = /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const clientOf = new Map<string, string>();
    for (const m of text.matchAll(importRe)) {
      for (const name of (m[1] ?? '').split(',')) {
        const clean = name.replace(/^\s*type\s+/, '').trim();
        if (clean.endsWith('Command')) clientOf.set(clean, m[2] ?? '');
      }
    }
    for (const m of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g)) {
      const client = clientOf.get(m[1] ?? '');
      if (client)
        found.push({
          client,
          command: (m[1] ?? '').replace(/Command$/, ''),
          file: path.relative(ROOT, file),
        });
    }
  }
  return found;
}

const { stacks } = buildApp({ environments: ['prod'] });
const batch = stacks.prod?.batch;
if (!batch) throw new Error('no prod batch stack');
const template = Template.fromStack(batch);

function dealctlStatements(): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  const roleId = batch?.getLogicalId(batch.dealctlRole.node.defaultChild as never);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('IAM coverage of the SDK commands the code sends', () => {
  const commands = collectSdkCommands(SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(ROOT, d))));

  it('finds the commands of the EMR orchestrator, the Glue catalog, S3 artifacts and the migration', () => {
    const names = new Set(commands.map((c) => `${c.client}:${c.command}`));
    for (const expected of ['emr:RunJobFlow', 'glue:BatchCreatePartition', 's3:PutObject', 's3:HeadBucket']) {
      expect(names).toContain(expected);
    }
    expect(commands.some((c) => c.file.startsWith('migration/'))).toBe(true);
  });

  it('grants the dealctl role an action for every command sent', () => {
    const granted = new Set(
      dealctlStatements()
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    );
    const missing = commands
      .map((c) => ({ ...c, action: iamActionOf(c.client, c.command) }))
      .filter((c) => !granted.has(c.action))
      .map((c) => `${c.action} (new ${c.command}Command in ${c.file})`);
    expect(missing).toEqual([]);
  });

  it('uses no wildcard action', () => {
    const actions = dealctlStatements().flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    // grantEncryptDecrypt's kms:GenerateDataKey* / kms:ReEncrypt* are key operations, not data actions.
    expect(actions.filter((a) => a.includes('*') && !a.startsWith('kms:'))).toEqual([]);
  });
});
