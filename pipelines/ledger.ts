import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/errors.ts';
import type { Lake } from '../core/lake.ts';
import type { DQ_STEP_FIELDS, DqResultRecord, RunStepRecord } from '../schemas/index.ts';
import { RunStep, validate } from '../schemas/index.ts';

export interface StepEvent extends RunStepRecord {
  /** Per-output counts, quarantine by reason and DQ results of a succeeded step. */
  readonly detail?: StepDetail;
}

export interface StepDetail {
  readonly outputs: Record<string, number>;
  readonly quarantineByCode: Record<string, number>;
  readonly dq: DqCheckResult[];
  readonly durationMs: number;
  /** Raw files the step could not read (each one a file-level quarantine record). */
  readonly unreadableFiles?: readonly { source: string; reason: string }[];
  /** Things a person should look at that did not stop the step (e.g. a .json in the raw folder). */
  readonly warnings?: readonly string[];
}

/** One DQ check of one output: a DqResult (schemas/records.ts) without the run and step it belongs to. */
export type DqCheckResult = Readonly<Omit<DqResultRecord, (typeof DQ_STEP_FIELDS)[number]>>;

/**
 * The run ledger: an append-only folder of small JSON events, one file per step transition,
 * written with write-then-rename so a crash leaves either a whole event or none. It works the
 * same on object stores (no appends), and the `runs` query view reads it directly.
 */
export class Ledger {
  private seq = 0;
  constructor(private readonly lake: Lake) {}

  static newRunId(date: string): string {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    return `${date}_${stamp}_${randomBytes(3).toString('hex')}`;
  }

  dir(): string {
    return this.lake.metaDir('runs');
  }

  record(event: StepEvent): void {
    const { detail, ...record } = event;
    const check = validate(RunStep, record);
    if (!check.ok)
      throw new Error(
        `ledger event invalid: ${check.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      );
    void detail;
    const runDir = path.join(this.dir(), `run_id=${event.run_id}`);
    mkdirSync(runDir, { recursive: true });
    const name = `${String(Date.now()).padStart(14, '0')}-${String(this.seq++).padStart(4, '0')}-${event.step}-${event.status}.json`;
    const tmp = path.join(runDir, `.${name}.tmp`);
    writeFileSync(tmp, `${JSON.stringify(event)}\n`);
    renameSync(tmp, path.join(runDir, name));
  }

  /** All events, oldest first. */
  events(runId?: string): StepEvent[] {
    const out: StepEvent[] = [];
    let runs: string[];
    try {
      runs = readdirSync(this.dir()).filter((d) => d.startsWith('run_id='));
    } catch {
      return [];
    }
    for (const r of runs) {
      if (runId && r !== `run_id=${runId}`) continue;
      for (const f of readdirSync(path.join(this.dir(), r))
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .sort()) {
        out.push(JSON.parse(readFileSync(path.join(this.dir(), r, f), 'utf8')) as StepEvent);
      }
    }
    return out.sort((a, b) =>
      (a.started_at + (a.ended_at ?? '')).localeCompare(b.started_at + (b.ended_at ?? '')),
    );
  }

  /** Latest state of each step of each run. */
  latestByStep(runId?: string): StepEvent[] {
    const latest = new Map<string, StepEvent>();
    for (const e of this.events(runId)) latest.set(`${e.run_id}/${e.step}`, e);
    return [...latest.values()];
  }

  /**
   * The steps a run being resumed already finished, after checking the run exists and processed
   * the same date (shared by every engine's --resume).
   */
  succeededStepsOf(runId: string, date: string): Set<string> {
    const previous = this.latestByStep(runId);
    if (previous.length === 0)
      throw new UsageError(`run ${runId} is not in the ledger`, 'list runs with `dealctl runs list`');
    if (previous[0]!.run_date !== date)
      throw new UsageError(
        `run ${runId} processed ${previous[0]!.run_date}, not ${date}`,
        `resume with --date ${previous[0]!.run_date}`,
      );
    return new Set(previous.filter((e) => e.status === 'succeeded').map((e) => e.step));
  }

  runs(): {
    runId: string;
    runDate: string;
    engine: string;
    status: string;
    startedAt: string;
    endedAt: string | null;
    steps: StepEvent[];
  }[] {
    const byRun = new Map<string, StepEvent[]>();
    for (const e of this.latestByStep()) byRun.set(e.run_id, [...(byRun.get(e.run_id) ?? []), e]);
    return [...byRun.entries()]
      .map(([runId, steps]) => {
        const status = steps.some((s) => s.status === 'failed')
          ? 'failed'
          : steps.some((s) => s.status === 'running')
            ? 'incomplete'
            : 'succeeded';
        const ends = steps
          .map((s) => s.ended_at)
          .filter((x): x is string => !!x)
          .sort();
        return {
          runId,
          runDate: steps[0]!.run_date,
          engine: steps[0]!.engine,
          status,
          startedAt: steps.map((s) => s.started_at).sort()[0]!,
          endedAt: ends.at(-1) ?? null,
          steps,
        };
      })
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** The last succeeded event of `step` for `date` (any run), for idempotent skips and row-count comparisons. */
  lastSucceeded(step: string, date: string, before?: string): StepEvent | undefined {
    return this.latestByStep()
      .filter(
        (e) =>
          e.step === step &&
          e.run_date === date &&
          e.status === 'succeeded' &&
          (!before || e.run_id !== before),
      )
      .sort((a, b) => (a.ended_at ?? '').localeCompare(b.ended_at ?? ''))
      .at(-1);
  }

  /** The previous succeeded event of `step` for any earlier date. */
  previousDate(step: string, date: string): StepEvent | undefined {
    return this.latestByStep()
      .filter((e) => e.step === step && e.run_date < date && e.status === 'succeeded')
      .sort(
        (a, b) => a.run_date.localeCompare(b.run_date) || (a.ended_at ?? '').localeCompare(b.ended_at ?? ''),
      )
      .at(-1);
  }
}
