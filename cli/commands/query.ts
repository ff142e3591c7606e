import { readFileSync, writeFileSync } from 'node:fs';
import type { DuckDBResultReader } from '@duckdb/node-api';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { DealFinderError, UsageError } from '../../core/errors.ts';
import { duckDbSettings, openDuckDb } from '../../jobs/index.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { registerLakeViews } from '../../notebooks/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';
import { parseParam, type QueryParam } from '../options.ts';

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
      'Run SQL (DuckDB dialect) over the lake. Views: raw_deals, products, deals, quarantine, enriched_deals, price_trends, features, runs, dq_results. Parameters are bound, never spliced: write $name in the SQL and pass --param name=value.',
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
      const db = await openDuckDb(duckDbSettings(ctx.config));
      const conn = await db.connect();
      try {
        await registerLakeViews(conn, ctx.lake);
        const params = Object.fromEntries(
          Object.entries(opts.param as Record<string, QueryParam>).map(([k, p]) => [k, p.value]),
        );
        if (opts.format === 'parquet') {
          // COPY cannot take prepared parameters: materialize the bound query first.
          const prepared = await conn.prepare(`CREATE TEMP TABLE __result AS ${sql}`);
          prepared.bind(params as Record<string, never>);
          await prepared.run();
          await conn.run(`COPY __result TO ${sqlString(opts.out)} (FORMAT parquet, COMPRESSION snappy)`);
          const n = (await conn.runAndReadAll('SELECT count(*) AS n FROM __result')).getRowObjectsJS()[0]?.n;
          io.err.write(`wrote ${n} rows to ${opts.out}\n`);
          return;
        }
        let reader: DuckDBResultReader;
        try {
          const prepared = await conn.prepare(sql);
          if (Object.keys(params).length) prepared.bind(params as Record<string, never>);
          reader = await prepared.runAndReadAll();
        } catch (error) {
          throw new DealFinderError(
            'query-failed',
            (error as Error).message.split('\n')[0] ?? 'query failed',
            {
              hint: 'views: deals, quarantine, enriched_deals, price_trends, features, products, raw_deals, runs, dq_results',
              exitCode: 1,
              cause: error,
            },
          );
        }
        const columns = reader.columnNames();
        const rows = reader.getRowObjectsJS().map(plainRow);
        let text: string;
        if (opts.format === 'json') text = `${JSON.stringify(rows, null, 2)}\n`;
        else if (opts.format === 'csv')
          text = `${[columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
        else {
          const t = new Table({ style: { head: [], border: [] }, head: columns });
          for (const r of rows.slice(0, opts.maxRows))
            t.push(
              columns.map((c) =>
                r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]),
              ),
            );
          text = `${t.toString()}\n${rows.length} row(s)${rows.length > opts.maxRows ? `, first ${opts.maxRows} shown` : ''}\n`;
        }
        if (opts.out) writeFileSync(opts.out, text);
        else io.out.write(text);
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    });
}
