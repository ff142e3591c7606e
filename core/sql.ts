/**
 * The one place SQL text is quoted. Values are bound as parameters wherever the engine allows
 * (`SET VARIABLE`, prepared statements); these are for what cannot be bound: file paths in
 * `read_parquet(…)`/`COPY … TO`, secrets' settings, constraint lists.
 *
 * Quoting follows DuckDB and standard SQL (a quote inside is doubled). Spark SQL reads `'a''b'`
 * as two literals, so the portable job SQL never contains a doubled quote (jobs/job.ts lint).
 */

/** A SQL string literal: `it's` → `'it''s'`. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier: `my "col"` → `"my ""col"""`. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A list of string literals, e.g. for `IN (…)` or a DuckDB list `[…]`: `a, b` → `'a', 'b'`. */
export function sqlStrings(values: readonly string[]): string {
  return values.map(sqlString).join(', ');
}
