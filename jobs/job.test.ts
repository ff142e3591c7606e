import { describe, expect, it } from 'vitest';
import type { JobDef } from './job.ts';
import { loadJobSql, parseJobSql } from './job.ts';
import { duckdbMacroStatements, MACROS, sparkMacroStatements } from './macros.ts';
import { JOBS, topologicalOrder } from './registry.ts';
import { rewriteParams } from './sql-text.ts';

const job: JobDef = {
  name: 't',
  description: '',
  kind: 'row',
  dependsOn: [],
  inputs: [],
  outputs: [{ statement: 'out', table: 'deals' }],
  primaryOutput: 'out',
  params: ['p'],
  sqlFile: 'none',
};
const wrap = (sql: string) =>
  `-- @output out\n${sql};\n-- @metrics\nSELECT 1 AS rows_in, 0 AS deduplicated, 0 AS filtered`;

describe('job SQL: one portable definition', () => {
  it('every bundled job parses and passes the portability lint', () => {
    for (const j of JOBS) expect(loadJobSql(j).length).toBeGreaterThan(1);
  });

  it.each([
    ["SELECT regexp_replace(a, '[.]', '', 'g') FROM x", 're_replace_all'],
    ["SELECT a FROM x WHERE a RLIKE 'b'", 're_matches'],
    ['SELECT a::INT FROM x', 'CAST'],
    ["SELECT date_diff('day', a, b) FROM x", 'days_between'],
    ["SELECT '\\d' FROM x", 'backslashes'],
    ['SELECT quantile_cont(a, 0.5) FROM x', 'percentile'],
    ['SELECT row_number() OVER (ORDER BY a ASC) FROM x', 'NULLS FIRST or NULLS LAST'],
    ['SELECT :undeclared FROM x', 'undeclared parameter'],
    ["SELECT 'it''s' FROM x", 'doubled quote'],
  ])('rejects %s', (sql, message) => {
    expect(() => parseJobSql(job, wrap(sql))).toThrow(message);
  });

  it('accepts portable SQL and keeps strings intact', () => {
    const st = parseJobSql(
      job,
      wrap("SELECT re_replace_all(a, ';', '') AS b, :p AS c FROM x ORDER BY a ASC NULLS LAST"),
    );
    expect(st.map((s) => s.kind)).toEqual(['output', 'metrics']);
  });

  it('rewrites parameter markers outside strings and comments only', () => {
    expect(rewriteParams("SELECT :a, ':a', x::INT -- :a\nFROM t", (n) => `$${n}`)).toBe(
      "SELECT $a, ':a', x::INT -- :a\nFROM t",
    );
  });

  it('defines every macro for both engines', () => {
    expect(duckdbMacroStatements()).toHaveLength(MACROS.length);
    expect(sparkMacroStatements().every((s) => s.startsWith('CREATE OR REPLACE TEMPORARY FUNCTION'))).toBe(
      true,
    );
  });

  it('orders jobs by their dependencies', () => {
    expect(topologicalOrder([...JOBS].reverse()).map((j) => j.name)).toEqual([
      'cleanup',
      'enrichment',
      'price_trends',
      'features',
    ]);
  });
});
