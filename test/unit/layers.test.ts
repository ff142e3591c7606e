/**
 * The layers point down: reads every import of the repository's TypeScript (static `import` /
 * `export … from` and dynamic `import('…')`) and checks the rules of docs/architecture.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const SKIP = new Set(['node_modules', '.cache', 'dist', 'lake', 'coverage', '.git']);

function sources(dir = REPO): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name) || e.name.startsWith('.')) return [];
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Repo-relative targets of the relative imports of `file`. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(IMPORT)]
    .map((m) => m[1] ?? m[2] ?? '')
    .filter((spec) => spec.startsWith('.'))
    .map((spec) =>
      path
        .relative(REPO, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/'),
    );
}

const area = (rel: string) => rel.split('/')[0] ?? '';
const isTest = (rel: string) => area(rel) === 'test' || /\.test\.ts$/.test(rel);
const isProduction = (rel: string) =>
  !isTest(rel) && !['cli', 'bin', 'bench', 'scripts'].includes(area(rel)) && rel.includes('/');

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** The imports that break a rule, as "from → to (rule)". */
function violations(edges: readonly Edge[]): string[] {
  const bad: string[] = [];
  for (const { from, to } of edges) {
    const fromCli = ['cli', 'bin'].includes(area(from));
    if (area(to) === 'cli' && !fromCli) {
      // Tests drive the CLI through its entry point only, never a command's module.
      if (!(isTest(from) && to === 'cli/index.ts'))
        bad.push(`${from} → ${to} (only bin/ and cli/ import cli/)`);
    }
    if (isTest(to) && !isTest(from))
      bad.push(`${from} → ${to} (production code and bench/ never import tests)`);
    const command = /^cli\/commands\/([^/.]+)/;
    const a = command.exec(from)?.[1];
    const b = command.exec(to)?.[1];
    if (a && b && a !== b) bad.push(`${from} → ${to} (no command imports another command)`);
    if (isProduction(from) && ['bench', 'scripts'].includes(area(to)))
      bad.push(`${from} → ${to} (production code never imports bench/ or scripts/)`);
  }
  return bad;
}

describe('import graph', () => {
  const edges = sources().flatMap((file) => {
    const from = path.relative(REPO, file).split(path.sep).join('/');
    return importsOf(file).map((to) => ({ from, to }));
  });

  it('reads the imports of the tree (the parser sees static, re-export and dynamic imports)', () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(
      importsOf(
        path.join(REPO, 'x', 'a.ts'),
        "import { a } from '../cli/b.ts';\nexport { c } from './c.ts';\nconst d = await import('../test/d.ts');\n// import { e } from './e.ts';\n",
      ),
    ).toEqual(['cli/b.ts', 'x/c.ts', 'test/d.ts']);
  });

  it('flags each kind of upward import', () => {
    expect(
      violations([
        { from: 'migration/main.ts', to: 'cli/commands/migrate.ts' },
        { from: 'bench/stream.ts', to: 'test/integration/streaming/support.ts' },
        { from: 'core/x.ts', to: 'jobs/y.test.ts' },
        { from: 'cli/commands/runs.ts', to: 'cli/commands/nightly.ts' },
        { from: 'test/integration/x.test.ts', to: 'cli/commands/sample.ts' },
        { from: 'jobs/plan.ts', to: 'bench/support/sample.ts' },
      ]),
    ).toHaveLength(6);
    expect(
      violations([
        { from: 'bin/dealctl.mjs', to: 'cli/run.ts' },
        { from: 'cli/commands/runs.ts', to: 'cli/options.ts' },
        { from: 'test/support/cli.ts', to: 'cli/index.ts' },
        { from: 'test/integration/x.test.ts', to: 'bench/support/streaming.ts' },
        { from: 'notebooks/queries.test.ts', to: 'test/support/cli.ts' },
      ]),
    ).toEqual([]);
  });

  it('has no import that points up a layer', () => {
    expect(violations(edges)).toEqual([]);
  });
});
