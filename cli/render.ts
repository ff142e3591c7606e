import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { ProgressReporter, RunSummary, StepEvent } from '../pipelines/index.ts';

/**
 * What the summary shows of a run: a live run's summary, or a ledger run (`runs show`), whose
 * status is the ledger's word for it (succeeded, failed, incomplete), the same one `runs list` prints.
 */
export type RunView = Omit<RunSummary, 'status'> & { readonly status: string };

const fmt = (n: number | null | undefined) =>
  n === null || n === undefined ? '-' : n.toLocaleString('en-US');

/** The closing summary of a run: rows per step, quarantine by reason, DQ results, wall time. */
export function renderSummary(summary: RunView, lakeRoot: string): string {
  const lines: string[] = [];
  lines.push(
    `\nNightly run ${summary.runId} — ${summary.date} on ${summary.engine}: ${summary.detached ? 'SUBMITTED (not waited for)' : summary.status.toUpperCase()}`,
  );
  const steps = new Table({
    style: { head: [], border: [] },
    head: ['step', 'status', 'rows in', 'rows out', 'quarantined', 'deduplicated', 'filtered', 'seconds'],
  });
  for (const s of summary.steps) {
    steps.push([
      s.step,
      s.status,
      fmt(s.rows_in),
      fmt(s.rows_out),
      fmt(s.quarantined),
      fmt(s.deduplicated),
      fmt(s.detail?.outputs.filtered ?? 0),
      s.detail ? (s.detail.durationMs / 1000).toFixed(2) : '-',
    ]);
  }
  lines.push(steps.toString());
  const byCode = new Map<string, number>();
  for (const s of summary.steps)
    for (const [k, v] of Object.entries(s.detail?.quarantineByCode ?? {}))
      byCode.set(k, (byCode.get(k) ?? 0) + v);
  if (byCode.size) {
    const q = new Table({ style: { head: [], border: [] }, head: ['quarantine reason', 'rows'] });
    for (const [k, v] of [...byCode.entries()].sort((a, b) => b[1] - a[1])) q.push([k, fmt(v)]);
    lines.push(q.toString());
  }
  const checks = summary.steps.flatMap((s) => (s.detail?.dq ?? []).map((c) => ({ step: s.step, ...c })));
  if (checks.length) {
    const pass = checks.filter((c) => c.status === 'pass').length;
    const dq = new Table({
      style: { head: [], border: [] },
      head: ['step', 'output', 'check', 'status', 'detail'],
    });
    for (const c of checks.filter((c) => c.status !== 'pass'))
      dq.push([c.step, c.output, c.check, c.status.toUpperCase(), c.message]);
    lines.push(`Data quality: ${pass}/${checks.length} checks passed`);
    if (checks.length > pass) lines.push(dq.toString());
  }
  for (const w of summary.warnings ?? []) lines.push(`warning: ${w}`);
  if (summary.error)
    lines.push(
      `error[${summary.error.code}]: ${summary.error.message}${summary.error.hint ? `\nhint: ${summary.error.hint}` : ''}`,
    );
  // A ledger run has no error object: each failed step recorded its error as its message.
  else
    for (const s of summary.steps)
      if (s.status === 'failed' && s.message) lines.push(`step ${s.step} failed: ${s.message}`);
  lines.push(`Wall time ${(summary.wallMs / 1000).toFixed(1)} s · lake ${lakeRoot}`);
  // A run stopped before its first step (e.g. missing input) has nothing to resume.
  if ((summary.status === 'failed' || summary.status === 'incomplete') && summary.steps.length > 0)
    lines.push(`Resume with: dealctl nightly --date ${summary.date} --resume ${summary.runId}`);
  return `${lines.join('\n')}\n`;
}

export function stepsJson(steps: StepEvent[]): unknown {
  return steps.map(({ detail, ...rest }) => ({ ...rest, ...(detail ? { detail } : {}) }));
}

/** Progress bar over the steps of a run, on a terminal only. */
export function ttyProgress(stream: NodeJS.WriteStream): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: ' {bar} {value}/{total} steps | {step} {state}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  return {
    start: (steps) => bar.start(steps.length, 0, { step: '', state: '' }),
    step: (name, state, info) => {
      if (state !== 'running') done++;
      bar.update(done, { step: name, state: info ? `${state} (${info})` : state });
    },
    stop: () => bar.stop(),
  };
}
