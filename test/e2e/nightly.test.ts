import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listParquet } from '../../core/lake.ts';
import { Ledger } from '../../pipelines/index.ts';
import { runCli } from '../support/cli.ts';
import { parquet, readRows, type TempLake, tempLake } from '../support/lake.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const DATE = '2026-11-22';
const SAMPLE = ['--raw-deals', '4000', '--days', '3', '--products', '1500', '--seed', '7'];
const TABLE_GLOBS: Record<string, string> = {
  deals: 'deals/*/*.parquet',
  quarantine: 'quarantine/*/*/*.parquet',
  enriched_deals: 'enriched_deals/*/*.parquet',
  price_trends: 'price_trends/*/*.parquet',
  features: 'features/*/*.parquet',
};

function dealctl(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'dealctl.mjs'), ...args], {
      cwd: REPO,
      env: { ...process.env, DEALFINDER_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Every output table's rows, canonical (sorted JSON lines, run ids masked), for equality checks. */
async function snapshot(root: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, glob] of Object.entries(TABLE_GLOBS)) {
    const rows = await readRows(
      `SELECT * EXCLUDE (${table === 'quarantine' ? 'run_id, ' : ''}dt) FROM ${parquet(path.join(root, glob))}`,
    );
    // Parallel floating-point sums may differ in the last bits between runs: compare doubles to 10 significant digits.
    out[table] = rows
      .map((r) =>
        JSON.stringify(r, (_k, v) =>
          typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(10)) : v,
        ),
      )
      .sort();
  }
  return out;
}

describe('nightly pipeline on sample data (DuckDB)', () => {
  let t: TempLake;
  beforeAll(async () => {
    t = tempLake();
    const r = await runCli([
      '--lake',
      t.root,
      '--log-level',
      'silent',
      'nightly',
      '--date',
      DATE,
      '--sample',
      ...SAMPLE,
    ]);
    expect(r.err).not.toMatch(/error\[/);
    expect(r.code).toBe(0);
    expect(r.out).toContain('SUCCEEDED');
  }, 180_000);
  afterAll(() => t.cleanup());

  it('writes hive partitions any Parquet reader opens (hyparquet, independent of DuckDB)', async () => {
    for (const table of ['deals', 'enriched_deals', 'price_trends', 'features']) {
      const files = listParquet(path.join(t.root, table, `dt=${DATE}`));
      expect(files, table).toHaveLength(1);
      const file = await asyncBufferFromFile(files[0]!);
      const meta = await parquetMetadataAsync(file);
      expect(Number(meta.num_rows), table).toBeGreaterThan(0);
      const rows = await parquetReadObjects({ file, rowEnd: 5 });
      expect(Object.keys(rows[0]!).length).toBeGreaterThan(5);
    }
  });

  it('quarantines every kind of injected dirt with the reason the ground truth expects', async () => {
    const rows = await readRows(`
      SELECT t.dirt_kind, t.expected_code, q.error_code, count(*) AS n
      FROM ${parquet(path.join(t.root, 'raw/_truth/*/*.parquet'))} t
      LEFT JOIN ${parquet(path.join(t.root, TABLE_GLOBS.quarantine!))} q ON q.record_id = t.raw_id
      WHERE t.dirt_kind IS NOT NULL
      GROUP BY ALL ORDER BY 1, 3`);
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows)
      expect({ dirt: r.dirt_kind, code: r.error_code }).toEqual({ dirt: r.dirt_kind, code: r.expected_code });
    const kinds = new Set(rows.filter((r) => r.expected_code).map((r) => r.dirt_kind));
    expect([...kinds].sort()).toEqual(
      [
        'absurd_price',
        'discount',
        'expired',
        'free',
        'from_price',
        'missing_price',
        'negative_price',
        'store_sale',
        'trade_in',
        'truncated',
        'unparseable_price',
        'zero_price',
      ].sort(),
    );
  });

  it('accounts for every row of every step: rows_in = out + quarantined + deduplicated + filtered', async () => {
    const ledger = new Ledger(t.lake);
    const steps = ledger.latestByStep().filter((e) => e.status === 'succeeded');
    expect(steps.length).toBe(12);
    for (const s of steps) {
      const filtered = s.detail?.outputs.filtered ?? 0;
      if (s.step === 'price_trends') {
        // Aggregate step: every observation lands in exactly one category row.
        const [{ n }] = (await readRows(
          `SELECT sum(obs_90d) AS n FROM ${parquet(path.join(t.root, `price_trends/dt=${s.run_date}/*.parquet`))} WHERE scope = 'category'`,
        )) as [{ n: number }];
        expect(Number(n)).toBe(s.rows_in);
      } else {
        expect(s.rows_in, `${s.step} ${s.run_date}`).toBe(
          (s.rows_out ?? 0) + (s.quarantined ?? 0) + (s.deduplicated ?? 0) + filtered,
        );
      }
    }
    const cleanup = steps.find((s) => s.step === 'cleanup' && s.run_date === DATE)!;
    expect(cleanup.deduplicated).toBeGreaterThan(0);
    expect(cleanup.quarantined).toBeGreaterThan(0);
  });

  it('`nightly --sample` run again (npm start twice) re-seeds nothing and skips every step of every day', async () => {
    const files = () =>
      readdirSync(path.join(t.root, 'raw'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => {
          const p = path.join(e.parentPath, e.name);
          return `${path.relative(t.root, p)}:${statSync(p).mtimeMs}`;
        })
        .sort();
    const before = files();
    expect(before.length).toBeGreaterThan(3);
    const again = await runCli([
      '--lake',
      t.root,
      '--log-level',
      'silent',
      'nightly',
      '--date',
      DATE,
      '--sample',
      ...SAMPLE,
      '--json',
    ]);
    expect(again.code, again.err).toBe(0);
    expect(files()).toEqual(before);
    const summary = JSON.parse(again.out) as { steps: { status: string }[] };
    expect(summary.steps.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    // The caught-up earlier days, one line each on stderr.
    const earlier = again.err.split('\n').filter((l) => /^ {2}\d{4}-\d{2}-\d{2}: /.test(l));
    expect(earlier).toHaveLength(2);
    for (const line of earlier)
      expect(line).toMatch(
        /succeeded \(cleanup skipped, enrichment skipped, price_trends skipped, features skipped\)$/,
      );
  }, 120_000);

  it('re-running the same date skips unchanged steps, and --force rewrites identical rows', async () => {
    const before = await snapshot(t.root);
    const again = await runCli([
      '--lake',
      t.root,
      '--log-level',
      'silent',
      'nightly',
      '--date',
      DATE,
      '--json',
    ]);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.out) as { steps: { status: string }[] };
    expect(summary.steps.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    const forced = await runCli([
      '--lake',
      t.root,
      '--log-level',
      'silent',
      'nightly',
      '--date',
      DATE,
      '--force',
      '--json',
    ]);
    expect(forced.code).toBe(0);
    expect(await snapshot(t.root)).toEqual(before);
  }, 120_000);

  it('answers analytics queries with bound parameters in every output format', async () => {
    const json = await runCli([
      '--lake',
      t.root,
      'query',
      'SELECT count(*) AS n FROM deals WHERE price > $min AND dt = $d',
      '-p',
      'min=100',
      '-p',
      `d:date=${DATE}`,
      '--format',
      'json',
    ]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)[0].n).toBeGreaterThan(0);
    const csv = await runCli([
      '--lake',
      t.root,
      'query',
      'SELECT error_code, count(*) AS n FROM quarantine GROUP BY 1 ORDER BY 1',
      '--format',
      'csv',
    ]);
    expect(csv.out.split('\n')[0]).toBe('error_code,n');
    const runs = await runCli([
      '--lake',
      t.root,
      'query',
      "SELECT count(*) AS n FROM dq_results WHERE status = 'fail'",
      '--format',
      'json',
    ]);
    expect(JSON.parse(runs.out)[0].n).toBe(0);
    const out = path.join(t.root, 'export.parquet');
    const pq = await runCli([
      '--lake',
      t.root,
      'query',
      'SELECT * FROM features WHERE target_price > $p',
      '-p',
      'p=10',
      '--format',
      'parquet',
      '--out',
      out,
    ]);
    expect(pq.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    const injection = await runCli([
      '--lake',
      t.root,
      'query',
      'SELECT $x AS v',
      '-p',
      'x=1; DROP VIEW deals; --',
      '--format',
      'json',
    ]);
    expect(JSON.parse(injection.out)[0].v).toBe('1; DROP VIEW deals; --');
    const bad = await runCli(['--lake', t.root, 'query', 'SELECT * FROM nope']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error\[query-failed\]/);
  });

  it("`runs show` prints the failing step's error, and both run views use the same status word", async () => {
    const config = path.join(t.root, 'strict-dq.json');
    writeFileSync(config, JSON.stringify({ dq: { quarantineRate: { max: 0, severity: 'fail' } } }));
    const failed = await runCli([
      '--lake',
      t.root,
      '-c',
      config,
      '--log-level',
      'silent',
      'nightly',
      '--date',
      DATE,
      '--force',
      '--json',
    ]);
    expect(failed.code).toBe(3);
    const { runId } = JSON.parse(failed.out) as { runId: string };
    const shown = await runCli(['--lake', t.root, 'runs', 'show', runId]);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain(`Nightly run ${runId} — ${DATE} on duckdb: FAILED`);
    expect(shown.out).toMatch(
      /^step cleanup failed: data-quality checks failed after cleanup: .*quarantine_rate/m,
    );
    const listed = await runCli(['--lake', t.root, 'runs', 'list', '--json']);
    expect(
      (JSON.parse(listed.out) as { runId: string; status: string }[]).find((r) => r.runId === runId)?.status,
    ).toBe('failed');
  });
});

describe('crash safety (real processes, SIGKILL)', () => {
  let reference: TempLake;
  let referenceRows: Record<string, string[]>;
  beforeAll(async () => {
    reference = tempLake();
    const r = await dealctl(['--lake', reference.root, 'nightly', '--date', DATE, '--sample', ...SAMPLE]);
    expect(r.code, r.stderr).toBe(0);
    referenceRows = await snapshot(reference.root);
  }, 180_000);
  afterAll(() => reference.cleanup());

  it.each([
    ['between the two renames of a partition replacement', 'commit-between-renames', true],
    ['in the middle of enrichment', 'during:enrichment', false],
    ['after price_trends committed', 'after-commit:price_trends', false],
  ])(
    'a run killed %s resumes to the same rows, no duplicates, no half partition',
    async (_what, point, rerun) => {
      const t = tempLake();
      try {
        if (rerun) {
          // A first complete run, so the crash hits a partition *replacement* (--force).
          expect(
            (await dealctl(['--lake', t.root, 'nightly', '--date', DATE, '--sample', ...SAMPLE])).code,
          ).toBe(0);
        } else {
          expect((await dealctl(['--lake', t.root, 'sample', '--end-date', DATE, ...SAMPLE])).code).toBe(0);
          for (const d of ['2026-11-20', '2026-11-21'])
            expect((await dealctl(['--lake', t.root, 'nightly', '--date', d])).code).toBe(0);
        }
        const crashed = await dealctl(
          ['--lake', t.root, 'nightly', '--date', DATE, ...(rerun ? ['--force'] : [])],
          { DEALFINDER_CRASH_AT: point },
        );
        expect(crashed.signal).toBe('SIGKILL');
        const runId = new Ledger(t.lake).runs().at(-1)!.runId;
        expect(new Ledger(t.lake).runs().at(-1)!.status).toBe('incomplete');
        // One status vocabulary: the killed run is `incomplete` in `runs list` and `runs show`.
        const listed = await runCli(['--lake', t.root, 'runs', 'list']);
        expect(listed.out.split('\n').find((l) => l.includes(runId))).toMatch(/\bincomplete\b/);
        const shown = await runCli(['--lake', t.root, 'runs', 'show', runId]);
        expect(shown.out).toContain(`on duckdb: INCOMPLETE`);
        expect(shown.out).not.toContain('FAILED');
        // No reader ever sees a partition folder without its data file.
        for (const glob of ['deals', 'enriched_deals', 'price_trends', 'features']) {
          const dir = path.join(t.root, glob);
          for (const p of existsSync(dir) ? readdirSync(dir) : [])
            expect(listParquet(path.join(dir, p)).length, `${glob}/${p}`).toBe(1);
        }
        const resumed = await dealctl(['--lake', t.root, 'nightly', '--date', DATE, '--resume', runId]);
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(new Ledger(t.lake).runs().find((r) => r.runId === runId)?.status).toBe('succeeded');
        expect(existsSync(path.join(t.root, '_trash'))).toBe(false);
        expect(await snapshot(t.root)).toEqual(referenceRows);
      } finally {
        t.cleanup();
      }
    },
    240_000,
  );

  it('a run killed at a random moment resumes to the same rows', async () => {
    const t = tempLake();
    try {
      expect((await dealctl(['--lake', t.root, 'sample', '--end-date', DATE, ...SAMPLE])).code).toBe(0);
      for (const d of ['2026-11-20', '2026-11-21'])
        expect((await dealctl(['--lake', t.root, 'nightly', '--date', d])).code).toBe(0);
      const child = spawn(
        process.execPath,
        [path.join(REPO, 'bin', 'dealctl.mjs'), '--lake', t.root, 'nightly', '--date', DATE],
        {
          cwd: REPO,
          stdio: 'ignore',
          env: { ...process.env, DEALFINDER_LOG_LEVEL: 'silent' },
        },
      );
      const exited = new Promise((r) => child.on('exit', r));
      const ledgerDir = path.join(t.root, '_meta', 'runs');
      const started = Date.now();
      // Wait until the run has begun (its first ledger event), then kill it after a random delay.
      while (
        Date.now() - started < 60_000 &&
        new Ledger(t.lake).runs().filter((r) => r.runDate === DATE).length === 0
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1500)));
      child.kill('SIGKILL');
      await exited;
      const run = new Ledger(t.lake).runs().find((r) => r.runDate === DATE);
      expect(existsSync(ledgerDir)).toBe(true);
      const args = run && run.status !== 'succeeded' ? ['--resume', run.runId] : [];
      const resumed = await dealctl(['--lake', t.root, 'nightly', '--date', DATE, ...args]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await snapshot(t.root)).toEqual(referenceRows);
    } finally {
      t.cleanup();
    }
  }, 240_000);
});

describe('dealctl usage errors', () => {
  it('exits 2 with one clear line and a hint on a bad date', async () => {
    const r = await runCli(['nightly', '--date', '2026-13-45']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')[0]).toMatch(/^error\[usage\]: "2026-13-45" is not a date/);
    expect(r.err).toContain('hint:');
    expect(r.err).not.toContain('    at ');
  });

  it('has --help on every command', async () => {
    for (const c of ['nightly', 'backfill', 'runs', 'sample', 'query', 'jobs']) {
      const r = await runCli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out, c).toContain('Usage: dealctl');
    }
  });

  it.each([
    ['duckdb', []],
    ['spark', []],
    ['emr', ['--lake', 's3://no-such-bucket/lake']],
  ])('--only with an unknown job exits 2 on %s, before any step or AWS call', async (engine, extra) => {
    const t = tempLake();
    try {
      const r = await runCli([
        '--lake',
        t.root,
        ...extra,
        '--log-level',
        'silent',
        'nightly',
        '--engine',
        engine,
        '--date',
        DATE,
        '--only',
        'cleanup',
        'nope',
      ]);
      expect(r.code, r.err).toBe(2);
      expect(r.err.split('\n')[0]).toBe(
        'error[job-unknown]: unknown job nope; jobs: cleanup, enrichment, price_trends, features',
      );
      expect(r.out).toBe('');
      expect(new Ledger(t.lake).events()).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  it('refuses to resume an unknown run', async () => {
    const t = tempLake();
    try {
      const r = await runCli(['--lake', t.root, 'nightly', '--date', DATE, '--resume', 'nope']);
      expect(r.code).toBe(2);
      expect(r.err).toContain('is not in the ledger');
    } finally {
      t.cleanup();
    }
  });
});
