/**
 * Row-by-row comparison of two versions of a table (two engines, or two ways of computing it):
 * strings, integers, dates and timestamps exactly, doubles to a tolerance, and a readable report
 * of the first differences.
 */

/**
 * Tolerance for DOUBLE columns: relative 1e-9, absolute 1e-9 near zero (aggregation order differs
 * between engines, and a difference of two equal means is 0 on one and 1e-14 on the other).
 */
export const TOL = 1e-9;

export interface TableRows {
  readonly columns: { name: string; type: string }[];
  readonly rows: Record<string, unknown>[];
}

export function isFloating(type: string): boolean {
  return /^(DOUBLE|FLOAT|REAL)$/i.test(type);
}

export function sameValue(a: unknown, b: unknown, floating: boolean): boolean {
  if (floating && a !== null && b !== null) {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    return x === y || Math.abs(x - y) <= TOL * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Null when both sides hold the same rows; else a readable report: row counts, keys present on
 * one side only, and the first differing rows with each differing column's two values.
 */
export function diffTables(
  table: string,
  key: readonly string[],
  left: TableRows,
  right: TableRows,
  names: [string, string] = ['duckdb', 'spark'],
  maxRows = 5,
): string | null {
  const lines: string[] = [];
  const schema = (t: TableRows) => t.columns.map((c) => `${c.name} ${c.type}`).join(', ');
  if (schema(left) !== schema(right)) {
    lines.push(`  schemas differ:\n    ${names[0]}: ${schema(left)}\n    ${names[1]}: ${schema(right)}`);
  }
  const keyOf = (r: Record<string, unknown>) => key.map((k) => `${k}=${String(r[k])}`).join(', ');
  const index = (rows: Record<string, unknown>[]) => {
    const m = new Map<string, Record<string, unknown>>();
    const seen = new Map<string, number>();
    for (const r of rows) {
      const k = keyOf(r);
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      m.set(n ? `${k} #${n + 1}` : k, r);
    }
    return m;
  };
  const a = index(left.rows);
  const b = index(right.rows);
  const onlyA = [...a.keys()].filter((k) => !b.has(k));
  const onlyB = [...b.keys()].filter((k) => !a.has(k));
  if (onlyA.length)
    lines.push(`  ${onlyA.length} row(s) only in ${names[0]}, first: ${onlyA.slice(0, maxRows).join(' | ')}`);
  if (onlyB.length)
    lines.push(`  ${onlyB.length} row(s) only in ${names[1]}, first: ${onlyB.slice(0, maxRows).join(' | ')}`);
  const floating = new Map(left.columns.map((c) => [c.name, isFloating(c.type)]));
  const differing: string[] = [];
  let count = 0;
  for (const [k, ra] of a) {
    const rb = b.get(k);
    if (!rb) continue;
    const cols = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter(
      (c) => !sameValue(ra[c], rb[c], floating.get(c) ?? false),
    );
    if (cols.length === 0) continue;
    count++;
    if (differing.length < maxRows) {
      differing.push(
        `  row (${k}):\n${cols
          .map((c) => `    ${c}: ${names[0]} ${JSON.stringify(ra[c])} | ${names[1]} ${JSON.stringify(rb[c])}`)
          .join('\n')}`,
      );
    }
  }
  if (count) lines.push(`  ${count} row(s) differ; first ${differing.length}:`, ...differing);
  if (lines.length === 0) return null;
  return [
    `table ${table}: ${names[0]} has ${left.rows.length} rows, ${names[1]} has ${right.rows.length} rows`,
    ...lines,
  ].join('\n');
}
