import type { Config } from '../core/config.ts';
import { TABLES, type TableName } from '../core/lake.ts';
import type { JobResult } from '../jobs/engines/engine.ts';
import type { JobDef } from '../jobs/job.ts';
import type { DqCheckResult } from './ledger.ts';

/**
 * Turns the raw DQ metrics an engine computed for each output into pass/warn/fail results,
 * using the thresholds of the config. All checks are evaluated (a report, not a first-failure).
 */
export function evaluateDq(args: {
  job: JobDef;
  result: JobResult;
  runDate: string;
  config: Config;
  previousRows: Record<string, number | undefined>;
}): DqCheckResult[] {
  const { job, result, config } = args;
  const out: DqCheckResult[] = [];
  const sev = (s: 'fail' | 'warn', ok: boolean) => (ok ? 'pass' : s);
  for (const o of job.outputs) {
    const r = result.outputs[o.statement];
    if (!r) continue;
    const record = TABLES[o.table as TableName].record;
    const rows = Number(r.dq.row_count ?? r.rows);
    if (o.table === 'quarantine') continue;
    // Completeness: the least complete required column.
    const required = Object.entries(record.fields).filter(([, s]) => !s.nullable);
    let worst = 1;
    let worstCol = '';
    for (const [name] of required) {
      const ratio = rows === 0 ? 1 : Number(r.dq[`nn__${name}`] ?? 0) / rows;
      if (ratio < worst) {
        worst = ratio;
        worstCol = name;
      }
    }
    out.push({
      output: o.statement,
      check: 'completeness',
      status: sev(config.dq.completeness.severity, worst >= config.dq.completeness.min),
      value: worst,
      threshold: config.dq.completeness.min,
      message: worstCol
        ? `least complete required column ${worstCol}: ${(worst * 100).toFixed(2)}%`
        : 'all required columns complete',
    });
    const validRatio = rows === 0 ? 1 : Number(r.dq.valid_rows ?? 0) / rows;
    out.push({
      output: o.statement,
      check: 'validity',
      status: sev(config.dq.validity.severity, validRatio >= config.dq.validity.min),
      value: validRatio,
      threshold: config.dq.validity.min,
      message: `${(validRatio * 100).toFixed(2)}% of rows satisfy every declared constraint`,
    });
    const freshest = r.dq.freshest;
    if (freshest !== undefined) {
      const endOfDay = Date.parse(`${args.runDate}T00:00:00Z`) + 86_400_000;
      const ts =
        freshest === null ? Number.NaN : Date.parse(`${String(freshest).replace(' ', 'T').slice(0, 19)}Z`);
      const ageHours = Number.isNaN(ts) ? null : (endOfDay - ts) / 3_600_000;
      out.push({
        output: o.statement,
        check: 'freshness',
        status: sev(
          config.dq.freshness.severity,
          ageHours !== null && ageHours <= config.dq.freshness.maxAgeHours,
        ),
        value: ageHours,
        threshold: config.dq.freshness.maxAgeHours,
        message:
          ageHours === null
            ? 'no rows: nothing fresh'
            : `newest row is ${ageHours.toFixed(1)} h before the end of ${args.runDate}`,
      });
    }
    const prev = args.previousRows[o.statement];
    if (prev !== undefined && prev > 0) {
      const change = Math.abs(rows - prev) / prev;
      out.push({
        output: o.statement,
        check: 'row_count_change',
        status: sev(config.dq.rowCountChange.severity, change <= config.dq.rowCountChange.maxRatio),
        value: change,
        threshold: config.dq.rowCountChange.maxRatio,
        message: `${rows} rows vs ${prev} in the previous run (${(change * 100).toFixed(1)}% change)`,
      });
    }
  }
  const quarantineOut = job.outputs.find((o) => o.table === 'quarantine');
  const primary = result.outputs[job.primaryOutput]?.rows ?? 0;
  const quarantined = quarantineOut ? (result.outputs[quarantineOut.statement]?.rows ?? 0) : 0;
  const { rows_in, deduplicated, filtered } = result.metrics;
  if (quarantineOut) {
    const rate = rows_in === 0 ? 0 : quarantined / rows_in;
    out.push({
      output: quarantineOut.statement,
      check: 'quarantine_rate',
      status: sev(config.dq.quarantineRate.severity, rate <= config.dq.quarantineRate.max),
      value: rate,
      threshold: config.dq.quarantineRate.max,
      message: `${quarantined} of ${rows_in} input rows quarantined (${(rate * 100).toFixed(2)}%)`,
    });
  }
  if (job.kind === 'row') {
    const balanced = rows_in === primary + quarantined + deduplicated + filtered;
    out.push({
      output: job.primaryOutput,
      check: 'conservation',
      status: sev(config.dq.conservation.severity, balanced),
      value: rows_in - (primary + quarantined + deduplicated + filtered),
      threshold: 0,
      message: `rows_in ${rows_in} = out ${primary} + quarantined ${quarantined} + deduplicated ${deduplicated} + filtered ${filtered}${balanced ? '' : ' does NOT hold'}`,
    });
  }
  return out;
}
