/**
 * Rewrites named parameter markers `:name` outside string literals and comments with `replace(name)`.
 * Used by engines whose parameter syntax differs from the jobs' `:name` markers.
 */
export function rewriteParams(sql: string, replace: (name: string) => string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'") {
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") j++;
          else break;
        }
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const j = end < 0 ? sql.length : end;
      out += sql.slice(i, j);
      i = j;
    } else if (
      ch === ':' &&
      sql[i + 1] !== ':' &&
      sql[i - 1] !== ':' &&
      /[a-z_]/.test(sql[i + 1] ?? '') &&
      !/[\w]/.test(sql[i - 1] ?? '')
    ) {
      const m = /^[a-z_][a-z0-9_]*/.exec(sql.slice(i + 1))!;
      out += replace(m[0]);
      i += 1 + m[0].length;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** SQL quoting lives in core/sql.ts (re-exported for the jobs' callers). */
export { sqlString } from '../core/sql.ts';

/** The SQL with every string literal's content blanked (for syntax checks that must ignore data). */
export function withoutStrings(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "''");
}
