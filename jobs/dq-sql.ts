import { sqlStrings } from '../core/sql.ts';
import type { FieldSpec, RecordDef } from '../schemas/index.ts';

/** Column whose maximum tells how fresh a table is. */
export const FRESHNESS_COLUMN: Record<string, string | undefined> = {
  deals: 'event_time',
  enriched_deals: 'event_time',
  price_daily: 'last_seen_at',
  price_trends: 'last_seen_at',
  features: 'as_of',
  quarantine: undefined,
  raw_deals: 'seen_at',
  products: undefined,
};

function constraintOf(name: string, spec: FieldSpec): string | undefined {
  const checks: string[] = [];
  if (spec.gtZero) checks.push(`${name} > 0`);
  if (spec.min !== undefined) checks.push(`${name} >= ${spec.min}`);
  if (spec.max !== undefined) checks.push(`${name} <= ${spec.max}`);
  if (spec.oneOf) checks.push(`${name} IN (${sqlStrings(spec.oneOf)})`);
  if (spec.maxLength !== undefined) checks.push(`length(${name}) <= ${spec.maxLength}`);
  if (checks.length === 0) return undefined;
  return `(${name} IS NULL OR (${checks.join(' AND ')}))`;
}

/**
 * Portable SQL computing the data-quality metrics of one output, read from a view named
 * `relation`. Derived from the schema: non-null counts per column, rows satisfying every
 * declared constraint, and the freshest timestamp.
 */
export function dqMetricsSql(def: RecordDef, relation: string): string {
  const fields = Object.entries(def.fields);
  const constraints = fields.map(([n, s]) => constraintOf(n, s)).filter((c): c is string => !!c);
  const cols = [
    'count(*) AS row_count',
    ...fields.map(([n]) => `sum(CASE WHEN ${n} IS NULL THEN 0 ELSE 1 END) AS nn__${n}`),
    `sum(CASE WHEN ${constraints.length ? constraints.join(' AND ') : '1 = 1'} THEN 1 ELSE 0 END) AS valid_rows`,
  ];
  const fresh = FRESHNESS_COLUMN[def.name];
  cols.push(fresh ? `CAST(max(${fresh}) AS STRING) AS freshest` : 'CAST(NULL AS STRING) AS freshest');
  return `SELECT\n  ${cols.join(',\n  ')}\nFROM ${relation}`;
}
