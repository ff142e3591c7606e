/**
 * What EMR would run does run: the HadoopJarStep Args of every step of a real nightly RunJobFlow
 * request (pipelines/emr: plans with runtime-resolved inputs, content-hash artifact URIs, the
 * runner's --result) are executed, one spark-submit per step as command-runner.jar would, against
 * local Spark from the harness. The one rewrite allowed is the location of the bucket:
 * `s3://<bucket>/` → `file://<mirror>/<bucket>/`, applied to the arguments and to the plans
 * artifact, where the same objects (runner.py, plans.json, the lake) were materialized. Every
 * other argument is byte-identical (asserted), and `spark-submit` itself is found on PATH like on
 * the cluster; the harness's SPARK_CONF_DIR plays the part of EMR's spark-defaults (master etc.).
 *
 * The four steps run in dependency order over a lake where the previous night was processed by
 * DuckDB; the partitions they write must equal, row by row, what the DuckDB engine writes for the
 * same night (doubles within 1e-9, run ids masked). enrichment, price_trends and features read
 * partitions that only exist after the earlier steps ran: the runner lists them at run time.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { addDays, TABLES, type TableName } from '../../core/lake.ts';
import { createLogger } from '../../core/logging.ts';
import { createEngine } from '../../jobs/engines/index.ts';
import { SPARK_RUNNER } from '../../jobs/engines/spark/index.ts';
import { JOBS } from '../../jobs/registry.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { prepareEmrRun } from '../../pipelines/emr/orchestrator.ts';
import { emrPlansOf } from '../../pipelines/emr/plans.ts';
import { runJobFlowInput } from '../../pipelines/emr/requests.ts';
import { runNightly } from '../../pipelines/nightly.ts';
import { seedSample } from '../../samples/index.ts';
import { servicesFor } from '../services/index.js';
import { sparkSubmitEnv } from '../services/spark.js';
import { readRows, type TempLake, tempLake } from '../support/lake.ts';

const svc = await servicesFor('spark');

const END = '2026-11-22';
const PREV = addDays(END, -1);
const BUCKET = 'emr-steps-it';
const RUN_ID = 'emr-steps-it-run';
const TOL = 1e-9;
const log = createLogger({}, 'silent');

/** Output partitions of the night and the columns that identify a row. */
const OUTPUTS: { table: TableName; sub?: string; key: string[] }[] = [
  { table: 'deals', key: ['deal_id'] },
  { table: 'quarantine', sub: 'cleanup', key: ['source', 'source_row'] },
  { table: 'enriched_deals', key: ['deal_id'] },
  { table: 'price_trends', key: ['scope', 'scope_key'] },
  { table: 'features', key: ['deal_id'] },
];

let duck: TempLake;
let work: TempLake;
let mirror: string;
const toLocal = (s: string) => s.replaceAll(`s3://${BUCKET}/`, `file://${mirror}/${BUCKET}/`);
const fromLocal = (s: string) => s.replaceAll(`file://${mirror}/${BUCKET}/`, `s3://${BUCKET}/`);
const localFile = (uri: string) => toLocal(uri).slice('file://'.length);

interface StepRun {
  job: string;
  emrArgs: string[];
  localArgs: string[];
  code: number | null;
  ms: number;
  stderrTail: string;
}
const stepRuns: StepRun[] = [];

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`${command} timed out after ${timeoutMs} ms\n${stderr.slice(-3000)}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

async function partitionRows(dir: string, key: string[]) {
  const src = `read_parquet(${sqlString(path.join(dir, '*.parquet'))}, hive_partitioning = false)`;
  const columns = (await readRows(`DESCRIBE SELECT * FROM ${src}`)).map((r) => ({
    name: String(r.column_name),
    type: String(r.column_type),
  }));
  const rest = columns
    .filter((c) => !key.includes(c.name) && !/DOUBLE|FLOAT/.test(c.type))
    .map((c) => c.name);
  const rows = await readRows(`SELECT * FROM ${src} ORDER BY ${[...key, ...rest].join(', ')}`);
  for (const r of rows) if ('run_id' in r) r.run_id = '<masked>';
  return { columns, rows };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= TOL * Math.max(1, Math.abs(a), Math.abs(b));
  return JSON.stringify(a) === JSON.stringify(b);
}

svc.describe('EMR steps, exactly as submitted, on local Spark', () => {
  beforeAll(async () => {
    duck = tempLake('dealfinder-emr-steps-duck-');
    work = tempLake('dealfinder-emr-steps-mirror-');
    mirror = work.root;
    await seedSample(duck, { endDate: END, days: 2, rawDealsPerDay: 1500, products: 800, seed: 11 });
    const engine = await createEngine('duckdb', duck.config);
    try {
      const prev = await runNightly({ date: PREV, engine, config: duck.config, lake: duck.lake, log });
      expect(prev.status).toBe('succeeded');
      // The bucket as EMR would find it before tonight's run: yesterday processed, tonight's raw deals landed.
      cpSync(duck.root, path.join(mirror, BUCKET, 'lake'), {
        recursive: true,
        filter: (src) => !src.includes(`${path.sep}_meta`) && !src.includes(`${path.sep}_tmp`),
      });
      const night = await runNightly({ date: END, engine, config: duck.config, lake: duck.lake, log });
      expect(night.status).toBe('succeeded');
    } finally {
      await engine.close();
    }

    // The real request: config with an s3:// lake, plans with runtime inputs, RunJobFlow's steps.
    const config = loadConfig({
      env: {},
      overrides: { lake: { root: `s3://${BUCKET}/lake` }, aws: { bucket: BUCKET, prefix: 'df' } },
    });
    const plans = emrPlansOf(JOBS, { config, runId: RUN_ID, date: END });
    const prepared = await prepareEmrRun({
      config,
      runId: RUN_ID,
      date: END,
      runnerFile: SPARK_RUNNER,
      plans,
    });
    const request = runJobFlowInput(config, prepared.spec);
    // Materialize the artifacts where the steps read them (the plans with the same location mapping).
    for (const [uri, artifact] of [
      [prepared.spec.runnerUri, prepared.artifacts.runner],
      [prepared.spec.plansUri, prepared.artifacts.plans],
    ] as const) {
      const file = localFile(uri);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, toLocal(Buffer.from(artifact.body).toString('utf8')));
    }
    const env = sparkSubmitEnv(svc.env, {
      PATH: `${path.dirname(svc.env.SPARK_SUBMIT!)}${path.delimiter}${process.env.PATH ?? ''}`,
    });
    for (const step of request.Steps ?? []) {
      const emrArgs = [...(step.HadoopJarStep?.Args ?? [])];
      const localArgs = emrArgs.map(toLocal);
      const job = emrArgs[emrArgs.indexOf('--job') + 1]!;
      const t0 = performance.now();
      const r = await run(localArgs[0]!, localArgs.slice(1), env, 5 * 60_000);
      stepRuns.push({
        job,
        emrArgs,
        localArgs,
        code: r.code,
        ms: performance.now() - t0,
        stderrTail: r.stderr.split('\n').slice(-30).join('\n'),
      });
      if (r.code !== 0) break; // a failed step ends the run on EMR too (TERMINATE_CLUSTER)
    }
    console.log(
      `[emr-steps] ${stepRuns.map((s) => `${s.job} ${(s.ms / 1000).toFixed(1)} s (exit ${s.code})`).join(', ')}`,
    );
  }, 10 * 60_000);

  afterAll(() => {
    duck?.cleanup();
    work?.cleanup();
  });

  it('ran every step of the RunJobFlow request in dependency order, each exiting 0', () => {
    const failed = stepRuns.find((s) => s.code !== 0);
    if (failed) throw new Error(`step ${failed.job} exited ${failed.code}:\n${failed.stderrTail}`);
    expect(stepRuns.map((s) => s.job)).toEqual(JOBS.map((j) => j.name));
  });

  it('changed nothing in the step arguments but the bucket location', () => {
    for (const s of stepRuns) {
      expect(s.emrArgs[0]).toBe('spark-submit');
      expect(s.localArgs).toHaveLength(s.emrArgs.length);
      s.emrArgs.forEach((arg, i) => {
        const local = s.localArgs[i]!;
        if (arg.startsWith(`s3://${BUCKET}/`))
          expect(local).toBe(`file://${mirror}/${BUCKET}/${arg.slice(`s3://${BUCKET}/`.length)}`);
        else expect(local).toBe(arg);
      });
      expect(s.localArgs.map(fromLocal)).toEqual(s.emrArgs);
      // The step reads the uploaded runner and plans and writes its result where the run expects it.
      expect(s.emrArgs.filter((a) => a.startsWith('s3://'))).toEqual([
        expect.stringMatching(new RegExp(`^s3://${BUCKET}/df/artifacts/[0-9a-f]{64}/runner\\.py$`)),
        expect.stringMatching(new RegExp(`^s3://${BUCKET}/df/artifacts/[0-9a-f]{64}/plans\\.json$`)),
        `s3://${BUCKET}/df/runs/${RUN_ID}/results/${s.job}.json`,
      ]);
    }
  });

  it('the runner reported each job ok, with runtime-listed inputs, in its result file', () => {
    for (const s of stepRuns) {
      const file = localFile(`s3://${BUCKET}/df/runs/${RUN_ID}/results/${s.job}.json`);
      expect(existsSync(file)).toBe(true);
      const item = (JSON.parse(readFileSync(file, 'utf8')) as { items: { job: string; ok: boolean }[] })
        .items[0];
      expect(item).toMatchObject({ job: s.job, ok: true });
    }
  });

  it.each(OUTPUTS.map((o) => [o.table, o] as const))(
    '%s: the partition the step wrote equals the DuckDB engine’s, row by row',
    async (_name, o) => {
      const emrDir = path.join(
        mirror,
        BUCKET,
        'lake',
        ...duck.lake.partitionPath(o.table, END, o.sub).split('/'),
      );
      const duckDir = duck.lake.partitionDir(o.table, END, o.sub);
      const want = await partitionRows(duckDir, o.key);
      const got = await partitionRows(emrDir, o.key);
      expect(want.rows.length).toBeGreaterThan(0);
      expect(got.columns).toEqual(want.columns);
      expect(got.rows.length).toBe(want.rows.length);
      const bad: string[] = [];
      want.rows.forEach((w, i) => {
        const g = got.rows[i]!;
        for (const c of Object.keys(w))
          if (!sameValue(w[c], g[c]) && bad.length < 5)
            bad.push(
              `row ${i} ${o.key.map((k) => w[k]).join('/')}: ${c} duckdb ${JSON.stringify(w[c])} | emr-step ${JSON.stringify(g[c])}`,
            );
      });
      expect(bad).toEqual([]);
      expect(TABLES[o.table].partitioned).toBe(true);
      console.log(`[emr-steps] ${o.table}: ${got.rows.length} rows identical to DuckDB`);
    },
  );

  it(
    'raw input on EMR: the runner quarantines an unreadable raw file as one record, and fails a night with none readable',
    async () => {
      // On EMR the runner is the first to see the raw files (plans have runtime inputs), so it does
      // the raw-input check itself. MIXED: one good file and a truncated one; BAD: only a truncated one.
      const MIXED = addDays(END, -4);
      const BAD = addDays(END, -5);
      const rawOf = (d: string) => path.join(mirror, BUCKET, 'lake', 'raw', 'deals', `dt=${d}`);
      const good = readFileSync(duck.lake.partitionFiles('raw_deals', END)[0]!);
      for (const d of [MIXED, BAD]) {
        mkdirSync(rawOf(d), { recursive: true });
        writeFileSync(
          path.join(rawOf(d), 'truncated.parquet'),
          good.subarray(0, Math.floor(good.length / 3)),
        );
      }
      writeFileSync(path.join(rawOf(MIXED), 'good.parquet'), good);
      const config = loadConfig({
        env: {},
        overrides: { lake: { root: `s3://${BUCKET}/lake` }, aws: { bucket: BUCKET, prefix: 'df' } },
      });
      const cleanup = JOBS.filter((j) => j.name === 'cleanup');
      // One plans file, one launch: the runner runs both cleanup plans in order.
      const plans = [MIXED, BAD].flatMap((date) =>
        emrPlansOf(cleanup, { config, runId: `${RUN_ID}-raw`, date }),
      );
      expect(plans[0]!.inputs[0]).toMatchObject({
        table: 'raw_deals',
        checkReadable: true,
        requireFiles: true,
      });
      const plansFile = path.join(mirror, 'raw-check-plans.json');
      const resultFile = path.join(mirror, 'raw-check-result.json');
      writeFileSync(plansFile, toLocal(JSON.stringify(plans)));
      const args = [...stepRuns[0]!.localArgs];
      args[args.indexOf('--plans') + 1] = `file://${plansFile}`;
      args[args.indexOf('--result') + 1] = `file://${resultFile}`;
      const env = sparkSubmitEnv(svc.env, {
        PATH: `${path.dirname(svc.env.SPARK_SUBMIT!)}${path.delimiter}${process.env.PATH ?? ''}`,
      });
      const r = await run(args[0]!, args.slice(1), env, 5 * 60_000);
      expect(r.code, r.stderr.slice(-3000)).toBe(1);
      const [mixed, bad] = (
        JSON.parse(readFileSync(resultFile, 'utf8')) as {
          items: {
            ok: boolean;
            error?: string;
            rawFiles?: { readable: number; unreadable: { source: string }[]; quarantined: number };
            outputs?: Record<string, { byCode?: Record<string, number> }>;
          }[];
        }
      ).items;
      expect(mixed!.ok, mixed!.error).toBe(true);
      expect(mixed!.rawFiles).toMatchObject({
        readable: 1,
        unreadable: [{ source: `raw/deals/dt=${MIXED}/truncated.parquet` }],
        quarantined: 1,
      });
      // byCode counts rows; the file-level record is counted by rawFiles.quarantined.
      expect(mixed!.outputs?.quarantine?.byCode?.unreadable_file).toBeUndefined();
      const records = await readRows(
        `SELECT step, source, source_row, error_code, original FROM read_parquet(${sqlString(path.join(mirror, BUCKET, 'lake', 'quarantine', `dt=${MIXED}`, 'step=cleanup', '*.parquet'))}) WHERE error_code = 'unreadable_file'`,
      );
      expect(records).toEqual([
        {
          step: 'cleanup',
          source: `raw/deals/dt=${MIXED}/truncated.parquet`,
          source_row: null,
          error_code: 'unreadable_file',
          original: JSON.stringify({
            file: `raw/deals/dt=${MIXED}/truncated.parquet`,
            bytes: Math.floor(good.length / 3),
          }),
        },
      ]);
      expect(bad!.ok).toBe(false);
      expect(bad!.error).toContain(`missing-input: no readable raw file in file://${rawOf(BAD)}/`);
    },
    6 * 60_000,
  );
});
