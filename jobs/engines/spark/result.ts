import type { JobResult, OutputResult, RawFilesReport } from '../engine.ts';

/** One job's entry in the PySpark runner's result JSON (--result), read back locally and from EMR's S3. */
export interface RunnerItem {
  readonly job: string;
  readonly ok: boolean;
  readonly outputs?: Record<string, RunnerOutput>;
  readonly metrics?: JobResult['metrics'];
  readonly durationMs?: number;
  readonly timings?: { statement: string; ms: number }[];
  readonly error?: string;
  readonly errorClass?: string;
  /** Inputs the runner checked for readable files (plans with checkReadable). */
  readonly rawFiles?: RawFilesReport;
}

export interface RunnerOutput extends OutputResult {
  /** Rows per error_code, for outputs of the quarantine table (counted by the runner). */
  readonly byCode?: Record<string, number>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * The runner's result for `job` from the text of its result file, checked against what the plan
 * expects: a problem is returned as a sentence (the caller fails the step with it), never a
 * result with missing counts.
 */
export function parseRunnerResult(
  text: string,
  expect: { job: string; outputs: readonly { statement: string; quarantine: boolean }[] },
): { ok: true; item: RunnerItem } | { ok: false; problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON (${(error as Error).message})` };
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.items)) return { ok: false, problem: 'no "items" list' };
  const item: unknown = parsed.items.find((i: unknown) => isRecord(i) && i.job === expect.job);
  if (!isRecord(item)) return { ok: false, problem: `no item for job ${expect.job}` };
  if (item.ok === false)
    return { ok: false, problem: `the runner reports the job failed: ${String(item.error ?? 'no message')}` };
  if (item.ok !== true) return { ok: false, problem: '"ok" is not a boolean' };
  const metrics = item.metrics;
  if (!isRecord(metrics) || !['rows_in', 'deduplicated', 'filtered'].every((k) => isCount(metrics[k])))
    return { ok: false, problem: '"metrics" lacks rows_in/deduplicated/filtered counts' };
  if (!isRecord(item.outputs)) return { ok: false, problem: 'no "outputs"' };
  if (item.rawFiles !== undefined) {
    const raw = item.rawFiles;
    if (!isRecord(raw) || !isCount(raw.readable) || !Array.isArray(raw.unreadable))
      return { ok: false, problem: '"rawFiles" is not {readable, unreadable[]}' };
  }
  for (const o of expect.outputs) {
    const out = item.outputs[o.statement];
    if (!isRecord(out)) return { ok: false, problem: `no output ${o.statement}` };
    if (!isCount(out.rows)) return { ok: false, problem: `output ${o.statement} has no row count` };
    if (!Array.isArray(out.files) || !out.files.every((f) => typeof f === 'string'))
      return { ok: false, problem: `output ${o.statement} has no file list` };
    if (!isRecord(out.dq)) return { ok: false, problem: `output ${o.statement} has no DQ metrics` };
    if (o.quarantine) {
      const byCode = out.byCode;
      if (!isRecord(byCode) || !Object.values(byCode).every(isCount))
        return { ok: false, problem: `output ${o.statement} has no quarantine counts by reason` };
      const sum = Object.values(byCode).reduce<number>((a, b) => a + (b as number), 0);
      if (sum !== out.rows)
        return {
          ok: false,
          problem: `output ${o.statement}: quarantine counts by reason add up to ${sum}, not ${out.rows} rows`,
        };
    }
  }
  return { ok: true, item: item as unknown as RunnerItem };
}
