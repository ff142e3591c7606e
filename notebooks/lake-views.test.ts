import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TABLES, type TableDef } from '../core/lake.ts';
import { sqlString } from '../jobs/sql-text.ts';
import { Ledger, type StepEvent } from '../pipelines/ledger.ts';
import { DqResult, type RecordDef, RunStep, sqlProjectionOf, sqlTypeOf } from '../schemas/index.ts';
import { type TempLake, tempLake } from '../test/support/lake.ts';
import { registerLakeViews } from './lake-views.ts';

/** The columns a view must have: the record's fields at their derived DuckDB types, then `extra`. */
function expected(def: RecordDef, extra: [string, string][] = []): [string, string][] {
  return [
    ...Object.entries(def.fields).map(([n, s]): [string, string] => [n, sqlTypeOf(s, 'duckdb')]),
    ...extra,
  ];
}

/** Partition keys that are not record fields (quarantine's `step=` is its `step` field). */
function partitions(t: TableDef): [string, string][] {
  const keys: [string, string][] = [
    ...(t.partitioned ? [['dt', 'DATE'] as [string, string]] : []),
    ...(t.subpartition ? [[t.subpartition, 'VARCHAR'] as [string, string]] : []),
  ];
  return keys.filter(([n]) => !(n in t.record.fields));
}

async function columnsOf(conn: DuckDBConnection, view: string): Promise<[string, string][]> {
  const rows = (await conn.runAndReadAll(`DESCRIBE ${view}`)).getRowObjectsJS();
  return rows.map((r) => [String(r.column_name), String(r.column_type)]);
}

const step = (over: Partial<StepEvent>): StepEvent => ({
  run_id: '2026-11-22_run',
  run_date: '2026-11-22',
  engine: 'duckdb',
  step: 'cleanup',
  status: 'running',
  attempt: 1,
  started_at: '2026-11-23T01:00:00.000Z',
  ended_at: null,
  rows_in: null,
  rows_out: null,
  quarantined: null,
  deduplicated: null,
  fingerprint: 'f',
  message: null,
  ...over,
});

describe('lake views have exactly the schema columns, with and without data', () => {
  let t: TempLake;
  let db: DuckDBInstance;
  let conn: DuckDBConnection;
  beforeEach(async () => {
    t = tempLake();
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
  });
  afterEach(() => {
    conn.closeSync();
    db.closeSync();
    t.cleanup();
  });

  it('an empty lake: every table, runs and dq_results', async () => {
    const views = await registerLakeViews(conn, t.lake);
    expect(views.sort()).toEqual([...Object.keys(TABLES), 'runs', 'dq_results'].sort());
    for (const table of Object.values(TABLES) as TableDef[])
      expect(await columnsOf(conn, table.name), table.name).toEqual(
        expected(table.record, partitions(table)),
      );
    expect(await columnsOf(conn, 'runs')).toEqual(expected(RunStep, [['detail', 'JSON']]));
    expect(await columnsOf(conn, 'dq_results')).toEqual(expected(DqResult));
    expect((await conn.runAndReadAll('SELECT count(*) AS n FROM runs')).getRowObjectsJS()[0]?.n).toBe(0n);
  });

  it('a lake with files: the same columns and types', async () => {
    // One deals partition and the products table, written with the jobs' own projection.
    for (const [name, sub] of [
      ['deals', 'dt=2026-11-22'],
      ['quarantine', 'dt=2026-11-22/step=cleanup'],
      ['products', ''],
    ] as const) {
      const table = TABLES[name];
      const dir = path.join(t.lake.tableDir(name), sub);
      mkdirSync(dir, { recursive: true });
      const row = Object.keys(table.record.fields).map((n) => `NULL AS ${n}`);
      await conn.run(
        `COPY (SELECT ${sqlProjectionOf(table.record, 'duckdb', 'r')} FROM (SELECT ${row.join(', ')}) r) TO ${sqlString(path.join(dir, 'part-0.parquet'))} (FORMAT parquet)`,
      );
    }
    // Ledger events: a step still running (no detail, nullable fields left out) and a finished one.
    const ledger = new Ledger(t.lake);
    const { message: _m, ended_at: _e, ...running } = step({});
    ledger.record(running as StepEvent);
    ledger.record(
      step({
        step: 'enrichment',
        status: 'succeeded',
        ended_at: '2026-11-23T01:02:00.000Z',
        rows_in: 10,
        rows_out: 9,
        quarantined: 1,
        deduplicated: 0,
        detail: {
          outputs: { enriched_deals: 9 },
          quarantineByCode: { unmatched_category: 1 },
          dq: [
            {
              output: 'enriched_deals',
              check: 'completeness',
              status: 'pass',
              value: 1,
              threshold: 0.95,
              message: 'ok',
            },
            {
              output: 'enriched_deals',
              check: 'freshness',
              status: 'warn',
              value: null,
              threshold: null,
              message: 'no data',
            },
          ],
          durationMs: 120_000,
        },
      }),
    );
    await registerLakeViews(conn, t.lake);
    for (const name of ['deals', 'quarantine', 'products'] as const)
      expect(await columnsOf(conn, name), name).toEqual(
        expected(TABLES[name].record, partitions(TABLES[name])),
      );
    const runs = await columnsOf(conn, 'runs');
    expect(runs.slice(0, -1)).toEqual(expected(RunStep));
    expect(runs.at(-1)?.[0]).toBe('detail');
    expect(await columnsOf(conn, 'dq_results')).toEqual(expected(DqResult));
    const dq = (
      await conn.runAndReadAll('SELECT step, "check", status, value FROM dq_results ORDER BY "check"')
    ).getRowObjectsJS();
    expect(dq).toEqual([
      { step: 'enrichment', check: 'completeness', status: 'pass', value: 1 },
      { step: 'enrichment', check: 'freshness', status: 'warn', value: null },
    ]);
    const started = (
      await conn.runAndReadAll("SELECT message, ended_at FROM runs WHERE step = 'cleanup'")
    ).getRowObjectsJS();
    expect(started).toEqual([{ message: null, ended_at: null }]);
  });

  it('a ledger whose steps are all still running: dq_results is the typed empty relation', async () => {
    new Ledger(t.lake).record(step({}));
    await registerLakeViews(conn, t.lake);
    expect((await columnsOf(conn, 'runs')).slice(0, -1)).toEqual(expected(RunStep));
    expect(await columnsOf(conn, 'dq_results')).toEqual(expected(DqResult));
  });

  it('a ledger whose finished steps ran no DQ check: dq_results is the typed empty relation', async () => {
    new Ledger(t.lake).record(
      step({
        status: 'succeeded',
        ended_at: '2026-11-23T01:02:00.000Z',
        detail: { outputs: {}, quarantineByCode: {}, dq: [], durationMs: 1 },
      }),
    );
    await registerLakeViews(conn, t.lake);
    expect(await columnsOf(conn, 'dq_results')).toEqual(expected(DqResult));
    expect((await conn.runAndReadAll('SELECT count(*) AS n FROM dq_results')).getRowObjectsJS()[0]?.n).toBe(
      0n,
    );
  });

  it('files older than a field: the view still has it, as NULL of its type', async () => {
    const dir = path.join(t.lake.tableDir('deals'), 'dt=2026-11-21');
    mkdirSync(dir, { recursive: true });
    // A partition written when deals had only two of today's fields.
    await conn.run(
      `COPY (SELECT 'x' AS deal_id, 'https://x' AS url) TO ${sqlString(path.join(dir, 'part-0.parquet'))} (FORMAT parquet)`,
    );
    await registerLakeViews(conn, t.lake);
    expect(await columnsOf(conn, 'deals')).toEqual(expected(TABLES.deals.record, partitions(TABLES.deals)));
    const rows = (
      await conn.runAndReadAll('SELECT deal_id, price, retailer, event_time FROM deals')
    ).getRowObjectsJS();
    expect(rows).toEqual([{ deal_id: 'x', price: null, retailer: null, event_time: null }]);
  });
});
