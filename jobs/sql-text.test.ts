import { describe, expect, it } from 'vitest';
import { inlineSparkMacros } from './engines/spark/index.ts';
import type { JobDef } from './job.ts';
import { parseJobSql } from './job.ts';
import { rewriteParams, sqlSpans, withoutStrings } from './sql-text.ts';

const kinds = (sql: string) => sqlSpans(sql).map((s) => [s.kind, s.text]);

describe('the one SQL lexer', () => {
  it('cuts code from strings, quoted identifiers and comments, losslessly', () => {
    const sql = `SELECT 'it''s; :x', "a ""b"" :y", \`c\`, $$d; :z$$ -- e; :w\nFROM t /* f; :v */ WHERE a = :p`;
    expect(
      sqlSpans(sql)
        .map((s) => s.text)
        .join(''),
    ).toBe(sql);
    expect(kinds(sql)).toEqual([
      ['code', 'SELECT '],
      ['string', "'it''s; :x'"],
      ['code', ', '],
      ['identifier', '"a ""b"" :y"'],
      ['code', ', '],
      ['identifier', '`c`'],
      ['code', ', '],
      ['string', '$$d; :z$$'],
      ['code', ' '],
      ['comment', '-- e; :w'],
      ['code', '\nFROM t '],
      ['comment', '/* f; :v */'],
      ['code', ' WHERE a = :p'],
    ]);
  });

  it('reads tagged dollar quotes, and $name query parameters as code', () => {
    expect(kinds('SELECT $fn$ a $$ b $fn$, $d')).toEqual([
      ['code', 'SELECT '],
      ['string', '$fn$ a $$ b $fn$'],
      ['code', ', $d'],
    ]);
    expect(kinds('SELECT price$ FROM t')).toEqual([['code', 'SELECT price$ FROM t']]);
  });

  it.each([
    ["SELECT 'abc", "unterminated ' literal"],
    ['SELECT "abc', 'unterminated " literal'],
    ['SELECT 1 /* no end', 'unterminated /* comment'],
    ['SELECT $$abc', 'unterminated $$ dollar-quoted string'],
  ])('refuses %s instead of guessing where it ends', (sql, message) => {
    expect(() => sqlSpans(sql)).toThrow(expect.objectContaining({ code: 'job-sql-invalid' }));
    expect(() => sqlSpans(sql)).toThrow(message);
  });

  it('binds :params in code only (not in strings, identifiers, block or line comments), casts untouched', () => {
    expect(
      rewriteParams(`SELECT :a, ':a', "x:a", x::INT /* :a */ -- :a\nFROM t WHERE b = :b_2`, (n) => `$${n}`),
    ).toBe(`SELECT $a, ':a', "x:a", x::INT /* :a */ -- :a\nFROM t WHERE b = $b_2`);
  });

  it('shows the lint code only: literals blanked, comments dropped', () => {
    expect(withoutStrings("SELECT 'a;b' /* c;d */, e -- f;g\n")).toBe("SELECT ''  , e  \n");
  });

  it('is the lexer the Spark macro inliner uses: calls in strings and comments stay', () => {
    const macros = [
      {
        name: 'twice',
        params: [{ name: 'x', sparkType: 'DOUBLE' }],
        sparkReturns: 'DOUBLE',
        duckdb: 'x * 2',
        spark: 'x * 2',
        why: 'test',
      },
    ];
    expect(inlineSparkMacros('SELECT twice(a), \'twice(b)\', "twice(c)" /* twice(d) */', macros)).toBe(
      'SELECT (CAST((a) AS DOUBLE) * 2), \'twice(b)\', "twice(c)" /* twice(d) */',
    );
    expect(() => inlineSparkMacros("SELECT twice('a)", macros)).toThrow("unterminated ' literal");
  });
});

describe('job SQL read with the lexer', () => {
  const job: JobDef = {
    name: 't',
    description: '',
    kind: 'row',
    dependsOn: [],
    inputs: [],
    outputs: [{ statement: 'out', table: 'deals' }],
    primaryOutput: 'out',
    params: [],
    sqlFile: 'none',
  };
  const wrap = (sql: string) =>
    `-- @output out\n${sql};\n-- @metrics\nSELECT 1 AS rows_in, 0 AS deduplicated, 0 AS filtered`;

  it('a semicolon in a string or a trailing comment is not a second statement', () => {
    expect(parseJobSql(job, wrap("SELECT 'a;b' AS s FROM x -- done; really")).map((s) => s.name)).toEqual([
      'out',
      'metrics',
    ]);
    expect(() => parseJobSql(job, wrap('SELECT 1 FROM x; SELECT 2 FROM y'))).toThrow(
      'more than one SQL statement',
    );
  });

  it('a :param in a comment or string is not a parameter; dollar quotes are not portable', () => {
    expect(() => parseJobSql(job, wrap("SELECT ':nope' AS s FROM x /* :nope */"))).not.toThrow();
    expect(() => parseJobSql(job, wrap('SELECT :nope FROM x'))).toThrow('undeclared parameter :nope');
    expect(() => parseJobSql(job, wrap('SELECT $$a$$ AS s FROM x'))).toThrow('dollar-quoted strings');
  });
});
