/**
 * One SQL lexer for everything that must read job SQL without misreading data as code: the
 * portability lint and statement splitting (jobs/job.ts), parameter binding (DuckDB, streaming
 * rules) and Spark macro inlining (jobs/engines/spark/plan.ts).
 *
 * Opaque spans (never parsed as code):
 *   'string'  with '' as an escaped quote          -> kind 'string'
 *   "ident" and `ident`, doubled quote escapes      -> kind 'identifier'
 *   $$text$$ / $tag$text$tag$ (DuckDB dollar quotes) -> kind 'string' (the lint refuses them: Spark has none)
 *   -- to the end of the line, and block comments   -> kind 'comment'
 * An unterminated string, identifier, dollar quote or block comment is an error, not "the rest
 * of the text": a lexer that guessed would let a `;` or `:param` slip through.
 */
import { DealFinderError } from '../core/errors.ts';

export type SqlSpanKind = 'code' | 'string' | 'identifier' | 'comment';

export interface SqlSpan {
  readonly kind: SqlSpanKind;
  readonly text: string;
}

function lexError(what: string, sql: string, at: number): DealFinderError {
  return new DealFinderError('job-sql-invalid', `unterminated ${what} in SQL: ${sql.slice(at, at + 40)}…`, {
    hint: 'close the literal or comment (see docs/engines.md, portable SQL)',
  });
}

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/**
 * Where the opaque span starting at `i` ends (the index just past it) and its kind, or undefined
 * when code starts at `i`.
 */
export function opaqueSpanAt(sql: string, i: number): { end: number; kind: SqlSpanKind } | undefined {
  const ch = sql[i];
  if (ch === "'" || ch === '"' || ch === '`') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === ch) {
        if (sql[j + 1] === ch) j += 2;
        else return { end: j + 1, kind: ch === "'" ? 'string' : 'identifier' };
      } else j++;
    }
    throw lexError(`${ch} literal`, sql, i);
  }
  if (ch === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return { end: end < 0 ? sql.length : end, kind: 'comment' };
  }
  if (ch === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    if (end < 0) throw lexError('/* comment', sql, i);
    return { end: end + 2, kind: 'comment' };
  }
  if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
    const tag = DOLLAR_TAG.exec(sql.slice(i));
    if (tag) {
      const end = sql.indexOf(tag[0], i + tag[0].length);
      if (end < 0) throw lexError(`${tag[0]} dollar-quoted string`, sql, i);
      return { end: end + tag[0].length, kind: 'string' };
    }
  }
  return undefined;
}

/** The SQL cut into code and opaque spans; joining the texts gives the input back. */
export function sqlSpans(sql: string): SqlSpan[] {
  const spans: SqlSpan[] = [];
  let code = '';
  let i = 0;
  while (i < sql.length) {
    const opaque = opaqueSpanAt(sql, i);
    if (!opaque) {
      code += sql[i];
      i++;
      continue;
    }
    if (code) spans.push({ kind: 'code', text: code });
    code = '';
    spans.push({ kind: opaque.kind, text: sql.slice(i, opaque.end) });
    i = opaque.end;
  }
  if (code) spans.push({ kind: 'code', text: code });
  return spans;
}

/** Maps every code span through `f` and keeps the opaque spans as they are. */
export function mapCode(sql: string, f: (code: string) => string): string {
  return sqlSpans(sql)
    .map((s) => (s.kind === 'code' ? f(s.text) : s.text))
    .join('');
}

/**
 * Rewrites named parameter markers `:name` in code (never in literals, quoted identifiers or
 * comments) with `replace(name)`; `x::INT` casts are left alone. Used by engines whose parameter
 * syntax differs from the jobs' `:name` markers.
 */
export function rewriteParams(sql: string, replace: (name: string) => string): string {
  return mapCode(sql, (code) =>
    code.replace(/(?<![:\w]):([a-z_][a-z0-9_]*)/g, (_m, name: string) => replace(name)),
  );
}

/**
 * The SQL as the lint sees it: string literals blanked to '' (dollar quotes too), comments
 * dropped, quoted identifiers kept. A `;` or `:name` left in it is code.
 */
export function withoutStrings(sql: string): string {
  return sqlSpans(sql)
    .map((s) =>
      s.kind === 'string' ? (s.text.startsWith('$') ? '$$$$' : "''") : s.kind === 'comment' ? ' ' : s.text,
    )
    .join('');
}

/** SQL quoting lives in core/sql.ts (re-exported for the jobs' callers). */
export { sqlString } from '../core/sql.ts';
