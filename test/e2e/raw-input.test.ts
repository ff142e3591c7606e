/**
 * Missing and bad raw input (issue 11 item 2), through the CLI on DuckDB: no raw partition or a
 * future date is a missing-input error (exit 4) naming the folder, --allow-empty runs an
 * intentional empty night; a truncated raw Parquet is one file-level quarantine record and the
 * night goes on (counted by the unreadable_files DQ check); a .json in the raw folder is a
 * warning in the summary and the ledger. The check runs before planning, so the Spark engine
 * gets exactly the same readable files (pipelines/raw-input.ts).
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listParquet } from '../../core/lake.ts';
import { Ledger } from '../../pipelines/index.ts';
import { utcDate } from '../../pipelines/raw-input.ts';
import { runCli } from '../support/cli.ts';
import { parquet, readRows, type TempLake, tempLake } from '../support/lake.ts';

const DATE = '2026-11-22';
const quiet = ['--log-level', 'silent'];
// The CLI reports its exit code through process.exitCode: do not let one test's leak into the next.
afterEach(() => {
  process.exitCode = undefined;
});

async function seeded(): Promise<TempLake> {
  const t = tempLake();
  const r = await runCli([
    '--lake',
    t.root,
    ...quiet,
    'sample',
    '--end-date',
    DATE,
    '--days',
    '1',
    '--raw-deals',
    '400',
    '--products',
    '200',
  ]);
  expect(r.code, r.err).toBe(0);
  return t;
}

describe('missing raw input', () => {
  let t: TempLake;
  beforeAll(async () => {
    t = await seeded();
  }, 60_000);
  afterAll(() => t.cleanup());

  it('a date without a raw partition exits 4 with error[missing-input] naming the folder; nothing runs', async () => {
    const r = await runCli(['--lake', t.root, ...quiet, 'nightly', '--date', '2026-11-10']);
    expect(r.code).toBe(4);
    expect(r.out).toContain(
      `error[missing-input]: no raw deals for 2026-11-10: ${path.join(t.root, 'raw', 'deals', 'dt=2026-11-10')} does not exist`,
    );
    expect(r.out).toContain('--allow-empty');
    expect(r.out).not.toContain('Resume with'); // nothing ran: no run to resume
    expect(new Ledger(t.lake).runs().filter((x) => x.runDate === '2026-11-10')).toEqual([]);
    expect(listParquet(path.join(t.root, 'deals', 'dt=2026-11-10'))).toEqual([]);
  });

  it('a date after today exits 4, even with --allow-empty', async () => {
    const tomorrow = utcDate(new Date(Date.now() + 86_400_000));
    const r = await runCli(['--lake', t.root, ...quiet, 'nightly', '--date', tomorrow, '--allow-empty']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(
      new RegExp(`error\\[missing-input\\]: ${tomorrow} is in the future \\(today is .* UTC\\)`),
    );
    expect(listParquet(path.join(t.root, 'price_trends', `dt=${tomorrow}`))).toEqual([]);
  });

  it('--allow-empty runs an intentional empty night', async () => {
    const r = await runCli([
      '--lake',
      t.root,
      ...quiet,
      'nightly',
      '--date',
      '2026-11-11',
      '--allow-empty',
      '--json',
    ]);
    expect(r.code, r.out).toBe(0);
    const summary = JSON.parse(r.out) as { status: string; steps: { step: string; rows_in: number }[] };
    expect(summary.status).toBe('succeeded');
    expect(summary.steps.find((s) => s.step === 'cleanup')?.rows_in).toBe(0);
  });
});

describe('bad files in the raw folder', () => {
  let t: TempLake;
  let raw: string;
  beforeAll(async () => {
    t = await seeded();
    raw = path.join(t.root, 'raw', 'deals', `dt=${DATE}`);
  }, 60_000);
  afterAll(() => t.cleanup());

  it('a truncated Parquet is one file-level quarantine record, the night goes on; a .json is a warning', async () => {
    const good = listParquet(raw);
    expect(good.length).toBeGreaterThan(0);
    // A copy of a good file cut in half: its footer (schema, row groups) is gone.
    const broken = path.join(raw, 'partner-feed.parquet');
    writeFileSync(broken, readFileSync(good[0]!));
    truncateSync(broken, Math.floor(readFileSync(good[0]!).length / 2));
    writeFileSync(path.join(raw, 'notes.json'), '{"dropped": "by hand"}\n');

    const r = await runCli(['--lake', t.root, ...quiet, 'nightly', '--date', DATE]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('warning: raw/deals/dt=2026-11-22/notes.json: not a Parquet file, not read');
    expect(r.out).toContain(
      'warning: raw/deals/dt=2026-11-22/partner-feed.parquet: unreadable, quarantined as one file',
    );
    expect(r.out).toMatch(/unreadable_file\s.*1/);

    const rows = await readRows(
      `SELECT source, source_row, error_code, message, original FROM ${parquet(path.join(t.root, 'quarantine', `dt=${DATE}`, 'step=cleanup', '*.parquet'))} WHERE error_code = 'unreadable_file'`,
    );
    expect(rows).toEqual([
      {
        source: 'raw/deals/dt=2026-11-22/partner-feed.parquet',
        source_row: null,
        error_code: 'unreadable_file',
        // The reader's reason, naming the file as in the lake, not by this machine's path.
        message: expect.stringMatching(
          /^raw file could not be read, none of its rows were processed: .*'raw\/deals\/dt=2026-11-22\/partner-feed\.parquet'/,
        ),
        original: expect.stringContaining('"file":"raw/deals/dt=2026-11-22/partner-feed.parquet"'),
      },
    ]);
    const cleanup = new Ledger(t.lake)
      .latestByStep()
      .find((e) => e.step === 'cleanup' && e.run_date === DATE && e.status === 'succeeded')!;
    expect(cleanup.rows_in).toBeGreaterThan(0);
    expect(cleanup.detail?.quarantineByCode.unreadable_file).toBe(1);
    expect(cleanup.detail?.unreadableFiles?.map((u) => u.source)).toEqual([
      'raw/deals/dt=2026-11-22/partner-feed.parquet',
    ]);
    expect(cleanup.detail?.warnings?.some((w) => w.includes('notes.json'))).toBe(true);
    expect(cleanup.message).toContain('notes.json: not a Parquet file');
    const check = cleanup.detail?.dq.find((c) => c.check === 'unreadable_files');
    expect(check).toMatchObject({ status: 'pass', threshold: 0.5 });
    expect(check?.message).toMatch(/^1 of \d+ raw files unreadable/);
  }, 120_000);

  it('more unreadable files than dq.unreadableFiles.maxRatio fails the step (exit 3)', async () => {
    const config = path.join(t.root, 'strict.config.json');
    writeFileSync(config, JSON.stringify({ dq: { unreadableFiles: { maxRatio: 0 } } }));
    const r = await runCli([
      '--lake',
      t.root,
      '--config',
      config,
      ...quiet,
      'nightly',
      '--date',
      DATE,
      '--force',
    ]);
    expect(r.code, r.out).toBe(3);
    expect(r.out).toContain('data-quality checks failed after cleanup: quarantine.unreadable_files');
  }, 120_000);
});
