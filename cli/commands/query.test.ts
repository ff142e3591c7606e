import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSample } from '../../samples/index.ts';
import { runCli } from '../../test/support/cli.ts';
import { readRows, type TempLake, tempLake } from '../../test/support/lake.ts';

const DATE = '2026-11-22';

/** Every file under `dir` with its size and modification time, to prove a refused query changed nothing. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = path.join(e.parentPath, e.name);
      const st = statSync(p);
      return `${path.relative(dir, p)}:${st.size}:${st.mtimeMs}`;
    })
    .sort();
}

describe('dealctl query is read-only analytics (real DuckDB)', () => {
  let t: TempLake;
  let partition: string;
  const query = (sql: string, ...more: string[]) =>
    runCli(['--lake', t.root, '--log-level', 'silent', 'query', sql, ...more]);

  beforeAll(async () => {
    t = tempLake();
    await seedSample(t, { endDate: DATE, days: 1, rawDealsPerDay: 300, products: 50, seed: 3 });
    partition = path.join(t.lake.partitionDir('raw_deals', DATE), 'sample-000.parquet');
  }, 60_000);
  afterAll(() => t.cleanup());

  it('answers a SELECT over the lake views', async () => {
    const r = await query('SELECT count(*) AS n FROM raw_deals', '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)[0].n).toBeGreaterThan(300);
  });

  it.each([
    ['COPY', "COPY (SELECT 1 AS x) TO 'PARTITION' (FORMAT parquet)"],
    ['COPY', "COPY (SELECT 1) TO 'x.csv'"],
    ['ATTACH', "ATTACH 'LAKE/evil.duckdb' AS evil"],
    ['INSTALL', 'INSTALL httpfs'],
    ['LOAD', 'LOAD httpfs'],
    ['SET', 'SET enable_external_access = true'],
    ['PRAGMA', 'PRAGMA enable_profiling'],
    ['CREATE', 'CREATE TABLE t AS SELECT 1'],
    ['COPY', "EXPLAIN ANALYZE COPY (SELECT 1) TO 'LAKE/y.csv'"],
  ])('refuses %s with one usage line and changes nothing: %s', async (keyword, template) => {
    const sql = template.replace('PARTITION', partition).replace('LAKE', t.root);
    const before = tree(t.root);
    const bytes = readFileSync(partition);
    const r = await query(sql);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe(`error[usage]: dealctl query is read-only: ${keyword} is not allowed, only SELECT`);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines).toHaveLength(2);
    expect(tree(t.root)).toEqual(before);
    expect(readFileSync(partition).equals(bytes)).toBe(true);
    expect(existsSync('x.csv')).toBe(false);
  });

  it('runs one statement at a time', async () => {
    const r = await query("SELECT 1; COPY (SELECT 1) TO 'x.csv'");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error\[usage\]: dealctl query runs one statement, got 2/);
    expect(existsSync('x.csv')).toBe(false);
  });

  it.each([
    ["read_csv('/etc/passwd')", '/etc/passwd'],
    ["read_text('/etc/hostname')", '/etc/hostname'],
    ["read_parquet('LAKE/../outside/*.parquet')", '../outside'],
    ["glob('/*')", '/*'],
  ])('cannot read outside the lake: %s', async (fn, shown) => {
    const r = await query(`SELECT * FROM ${fn.replace('LAKE', t.root)}`);
    expect(r.code).toBe(1);
    const first = r.err.split('\n')[0] ?? '';
    expect(first).toMatch(
      /^error\[query-failed\]: Permission Error: Cannot access .*disabled by configuration/,
    );
    expect(first).toContain(shown);
    expect(r.err).toContain(`files outside the lake (${t.root}) cannot be read`);
  });

  it('reads files inside the lake with table functions', async () => {
    const r = await query(`SELECT count(*) AS n FROM read_parquet('${partition}')`, '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)[0].n).toBe(300);
  });

  it('writes output files itself (-o), anywhere the user asks, in every format', async () => {
    const dir = path.join(tmpdir(), `dealctl-query-out-${process.pid}`);
    for (const format of ['csv', 'json', 'parquet']) {
      const out = path.join(dir, `q.${format}`);
      const r = await query(
        'SELECT raw_id FROM raw_deals ORDER BY raw_id LIMIT 5',
        '--format',
        format,
        '-o',
        out,
      );
      expect(r.code, r.err).toBe(0);
      expect(existsSync(out)).toBe(true);
    }
    const [written] = await readRows(
      `SELECT count(*) AS n FROM read_parquet('${path.join(dir, 'q.parquet')}')`,
    );
    expect(Number(written?.n)).toBe(5);
    rmSync(dir, { recursive: true, force: true });
  });

  it('validates typed parameters before any SQL runs, and binds them with their type', async () => {
    for (const [spec, what] of [
      ['d:date=2026-13-45', 'a date'],
      ['d:date=yesterday', 'a date'],
      ['n:int=1.5', 'an int'],
      ['n:int=', 'an int'],
      ['x:double=abc', 'a double'],
      ['b:bool=yes', 'a bool'],
    ] as const) {
      const r = await query('SELECT $d', '-p', spec);
      expect(r.code, spec).toBe(2);
      expect(r.err.split('\n')[0], spec).toBe(
        `error[usage]: --param ${spec.split(/[:=]/)[0]}: "${spec.split('=')[1]}" is not ${what}`,
      );
    }
    const ok = await query(
      'SELECT CAST($d + 1 AS VARCHAR) AS next, $n * 2 AS n, $s AS s',
      '-p',
      `d:date=${DATE}`,
      '-p',
      'n:int=21',
      '-p',
      's:string=42',
      '--format',
      'json',
    );
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toEqual([{ next: '2026-11-23', n: 42, s: '42' }]);
  });

  it('an unknown --lake is missing input (exit 4), not a new empty lake', async () => {
    const typo = `${t.root}-typo`;
    const r = await runCli(['--lake', typo, 'query', 'SELECT count(*) FROM deals']);
    expect(r.code).toBe(4);
    expect(r.err.split('\n')[0]).toBe(`error[missing-input]: no lake at ${typo}`);
    expect(r.err).toContain('hint: ');
    expect(existsSync(typo)).toBe(false);
  });
});
