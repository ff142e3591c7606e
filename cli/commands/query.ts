import { readFileSync, writeFileSync } from 'node:fs';
import type { DuckDBResultReader } from '@duckdb/node-api';
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { QueryFailedError, UsageError } from '../../core/errors.ts';
import { duckDbSettings, openDuckDb } from '../../jobs/index.ts';
import { sqlString } from '../../jobs/sql-text.ts';
import { registerLakeViews } from '../../notebooks/index.ts';
import { contextOf } from '../context.ts';
import type { CliIo } from '../main.ts';

/** `name=value` (numbers and booleans auto-typed) or `name:type=value` with type int|double|string|date|bool. */
export function parseParam(spec: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::(int|double|string|date|bool))?=(.*)$/s.exec(spec);
  if (!m) throw new UsageError(`--param "${spec}" is not name=value or name:type=value`);
  const [, name, type, raw] = m as unknown as [string, string, string | undefined, string];
  let value: unknown = raw;
  if (type === 'int' || type === 'double' || (!type && /^-?\d+(\.\d+)?$/.test(raw))) {
    value = Number(raw);
    if (Number.isNaN(value as number) || (type === 'int' && !Number.isInteger(value)))
      throw new UsageError(`--param ${name}: "${raw}" is not a ${type}`);
  } else if (type === 'bool' || (!type && /^(true|false)$/.test(raw))) {
    value = raw === 'true';
  }
  return { ...previous, [name]: value };
}

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

export function queryCommand(io: CliIo): Command {
  return new Command('query')
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
    .action(async (sqlArg: string | undefined, opts, command: Command) => {
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
        const params = opts.param as Record<string, unknown>;
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
          throw new QueryFailedError(
            error,
            'views: deals, quarantine, enriched_deals, price_trends, features, products, raw_deals, runs, dq_results',
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
