import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBResultReader } from '@duckdb/node-api';
import { type Command, Option } from 'commander';
import { DealFinderError, QueryFailedError, UsageError } from '../../core/errors.ts';
import { duckDbSettings, openDuckDb } from '../../jobs/engines/duckdb.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { registerLakeViews } from '../../notebooks/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseParam, type QueryParam } from '../options.ts';
import { assertLakeExists, bindParams, lockToLake, prepareReadOnly } from '../read-only.ts';

/** JSON-friendly values: safe integers as numbers (bigger ones as strings), dates and timestamps as ISO text. */
function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plainValue);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  return v;
}
const plainRow = (r: Record<string, unknown>) => plainValue(r) as Record<string, unknown>;

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export function defineQuery(command: Command, { io }: CliSession): void {
  command
    .description(
      'Run read-only SQL (DuckDB dialect) over the lake. Views: raw_deals, products, deals, quarantine, enriched_deals, price_trends, features, runs, dq_results. Parameters are bound, never spliced: write $name in the SQL and pass --param name=value.',
    )
    .argument('[sql]', 'the query (or use --file)')
    .option('-f, --file <file>', 'read the query from a file')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['table', 'csv', 'json', 'parquet'])
        .default('table'),
    )
    .option('-o, --out <file>', 'write the result to a file (required for parquet)')
    .option(
      '-p, --param <name=value>',
      'bind a named parameter ($name in the SQL); repeatable',
      parseParam,
      {},
    )
    .option('--max-rows <n>', 'table format: rows to print', (v) => Number(v), 200)
    .action(async (sqlArg: string | undefined, opts) => {
      const sql = (opts.file ? readFileSync(opts.file, 'utf8') : sqlArg)?.trim().replace(/;\s*$/, '');
      if (!sql)
        throw new UsageError(
          'no query given',
          'dealctl query "SELECT count(*) FROM deals"  or  dealctl query --file q.sql',
        );
      if (opts.format === 'parquet' && !opts.out) throw new UsageError('--format parquet needs --out <file>');
      const ctx = contextOf(command, io.out);
      // Before DuckDB opens: opening creates its spill folder, and a typo must not become a lake.
      assertLakeExists(ctx.lake);
      const settings = duckDbSettings(ctx.config);
      const out: string | undefined = opts.out ? path.resolve(opts.out) : undefined;
      if (out) mkdirSync(path.dirname(out), { recursive: true });
      const db = await openDuckDb(settings);
      const conn = await db.connect();
      try {
        await registerLakeViews(conn, ctx.lake);
        await lockToLake(conn, {
          directories: [ctx.lake.root, ctx.lake.metaRoot, settings.tempDirectory],
          // The CLI's own COPY of --format parquet writes there, never the user's SQL (SELECT only).
          files: opts.format === 'parquet' && out ? [out] : [],
        });
        const params = opts.param as Record<string, QueryParam>;
        const failed = (error: unknown) =>
          new QueryFailedError(
            error,
            `views: deals, quarantine, enriched_deals, price_trends, features, products, raw_deals, runs, dq_results; files outside the lake (${ctx.lake.root}) cannot be read`,
          );
        const prepared = await prepareReadOnly(conn, sql).catch((error) => {
          throw error instanceof DealFinderError ? error : failed(error);
        });
        bindParams(prepared, params);
        if (opts.format === 'parquet' && out) {
          // COPY cannot take prepared parameters: materialize the bound, checked query first.
          try {
            const materialize = await conn.prepare(`CREATE TEMP TABLE __result AS ${sql}`);
            bindParams(materialize, params);
            await materialize.run();
          } catch (error) {
            throw failed(error);
          }
          await conn.run(`COPY __result TO ${sqlString(out)} (FORMAT parquet, COMPRESSION snappy)`);
          const n = (await conn.runAndReadAll('SELECT count(*) AS n FROM __result')).getRowObjectsJS()[0]?.n;
          io.err.write(`wrote ${n} rows to ${opts.out}\n`);
          return;
        }
        let reader: DuckDBResultReader;
        try {
          reader = await prepared.runAndReadAll();
        } catch (error) {
          throw failed(error);
        }
        const columns = reader.columnNames();
        const rows = reader.getRowObjectsJS().map(plainRow);
        let text: string;
        if (opts.format === 'json') text = `${JSON.stringify(rows, null, 2)}\n`;
        else if (opts.format === 'csv')
          text = `${[columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
        else {
          // Only the table format needs it: csv/json/parquet answers skip loading it.
          const { default: Table } = await import('cli-table3');
          const t = new Table({ style: { head: [], border: [] }, head: columns });
          for (const r of rows.slice(0, opts.maxRows))
            t.push(
              columns.map((c) =>
                r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]),
              ),
            );
          text = `${t.toString()}\n${rows.length} row(s)${rows.length > opts.maxRows ? `, first ${opts.maxRows} shown` : ''}\n`;
        }
        if (out) writeFileSync(out, text);
        else io.out.write(text);
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    });
}
