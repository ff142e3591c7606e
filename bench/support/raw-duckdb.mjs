#!/usr/bin/env node
/**
 * The baseline of bench/cli: one query on @duckdb/node-api directly (no CLI, no views, no
 * config), printed as CSV the way `dealctl query --format csv` prints it, so the two answers can
 * be compared byte for byte. Plain JavaScript: nothing to transpile at start-up.
 *
 *   node bench/support/raw-duckdb.mjs <threads> <memory_limit> <sql>
 */
import { DuckDBInstance } from '@duckdb/node-api';

const [threads, memoryLimit, sql] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads, memory_limit: memoryLimit });
const conn = await db.connect();
const reader = await conn.runAndReadAll(sql);
const cell = (v) => {
  const s =
    v === null || v === undefined
      ? ''
      : v instanceof Date
        ? v.toISOString()
        : typeof v === 'bigint'
          ? String(Number.isSafeInteger(Number(v)) ? Number(v) : v)
          : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const columns = reader.columnNames();
const lines = [
  columns.map(cell).join(','),
  ...reader.getRowObjectsJS().map((r) => columns.map((c) => cell(r[c])).join(',')),
];
process.stdout.write(`${lines.join('\n')}\n`);
conn.closeSync();
db.closeSync();
