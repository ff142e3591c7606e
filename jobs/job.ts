import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobSqlError } from '../core/errors.ts';
import type { TableName } from '../core/lake.ts';
import { withoutStrings } from './sql-text.ts';

export type ParamType = 'DATE' | 'DOUBLE' | 'BIGINT' | 'VARCHAR';
export interface ParamValue {
  readonly type: ParamType;
  readonly value: string | number;
}

export interface JobInput {
  /** Name the job SQL reads it under. */
  readonly view: string;
  readonly table: TableName;
  /** Partitions relative to the run date, inclusive (e.g. {from: -89, to: 0}); absent for unpartitioned tables. */
  readonly days?: { readonly from: number; readonly to: number };
  /** Add _source_file and _source_row (quarantine provenance) and _source_key (a BIGINT unique per row within the run). */
  readonly provenance?: boolean;
}

export interface JobOutput {
  /** Name of the `-- @output` statement. */
  readonly statement: string;
  readonly table: TableName;
  /** Value of the table's sub-partition written by this job (quarantine: step=<job>). */
  readonly subpartition?: string;
}

export type StatementKind = 'table' | 'view' | 'output' | 'metrics';
export interface JobStatement {
  readonly kind: StatementKind;
  readonly name: string;
  readonly sql: string;
}

export interface JobDef {
  readonly name: string;
  readonly description: string;
  /** 'row': every input row is accounted for (rows_in = rows_out + quarantined + deduplicated + filtered). 'aggregate': rows are summarized. */
  readonly kind: 'row' | 'aggregate';
  readonly dependsOn: readonly string[];
  readonly inputs: readonly JobInput[];
  readonly outputs: readonly JobOutput[];
  /** Output whose rows count as rows_out (the others are side outputs such as quarantine). */
  readonly primaryOutput: string;
  /** Named parameters the SQL uses besides run_date and run_id. */
  readonly params: readonly string[];
  readonly sqlFile: string;
  /**
   * Version of the job's code outside its SQL file (default 1): bump it when the job's meaning
   * changes in TypeScript (its inputs' binding, a parameter's derivation), so old outputs are
   * recomputed. Part of the step fingerprint with the SQL, the schemas and the parameters.
   */
  readonly version?: number;
}

const SQL_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sql');

/** Reads and checks a job's SQL. Statements are introduced by `-- @table|@view|@output <name>` or `-- @metrics`. */
export function loadJobSql(job: JobDef): JobStatement[] {
  const text = readFileSync(path.join(SQL_DIR, job.sqlFile), 'utf8');
  return parseJobSql(job, text);
}

const MARKER = /^--\s*@(table|view|output|metrics)\b\s*([a-z_][a-z0-9_]*)?\s*$/;

export function parseJobSql(job: JobDef, text: string): JobStatement[] {
  const statements: JobStatement[] = [];
  let current: { kind: StatementKind; name: string; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const sql = current.lines
      .filter((l) => !/^\s*--/.test(l))
      .join('\n')
      .trim()
      .replace(/;\s*$/, '');
    if (!sql) throw new JobSqlError(job.name, `statement ${current.name} is empty`);
    if (withoutStrings(sql).includes(';'))
      throw new JobSqlError(job.name, `statement ${current.name} holds more than one SQL statement`);
    statements.push({ kind: current.kind, name: current.name, sql });
  };
  for (const line of text.split('\n')) {
    const m = MARKER.exec(line.trim());
    if (m) {
      flush();
      const kind = m[1] as StatementKind;
      const name = m[2] ?? (kind === 'metrics' ? 'metrics' : '');
      if (!name) throw new JobSqlError(job.name, `@${kind} needs a name`);
      current = { kind, name, lines: [] };
    } else if (current) {
      current.lines.push(line);
    }
  }
  flush();
  lintPortableSql(job, statements);
  return statements;
}

/** Functions and syntax that exist in only one engine, with the portable spelling to use instead. */
const NON_PORTABLE: readonly [RegExp, string][] = [
  [/\\/, 'backslashes (Spark string literals treat them as escapes): use character classes like [.] or [$]'],
  [/::/, 'the :: cast (DuckDB only): use CAST(x AS type)'],
  [/\bdate_diff\s*\(|\bdatediff\s*\(/i, 'date_diff/datediff: use days_between(start, end)'],
  [/\bregexp_matches\s*\(|\brlike\b/i, 'regexp_matches/RLIKE: use re_matches(s, pattern)'],
  [/\bregexp_replace\s*\([^)]*'g'\s*\)/i, "regexp_replace(…, 'g'): use re_replace_all"],
  [/\bepoch\s*\(|\bunix_timestamp\s*\(/i, 'epoch/unix_timestamp: use epoch_seconds(ts)'],
  [
    /\bstrftime\s*\(|\bdate_format\s*\(|\bstrptime\s*\(/i,
    'date formatting functions differ: bind dates as parameters',
  ],
  [
    /\b(list_|array_|struct_pack|named_struct|string_split|split)\w*\s*\(/i,
    'collection functions differ between engines',
  ],
  [/\b(quantile|percentile|median)\w*\s*\(/i, 'percentile functions differ: compute them outside job SQL'],
  [
    /[^\s,(='|]''|''[^\s,)'|]/,
    "a doubled quote inside a string literal (Spark reads 'a''b' as two literals): use chr(39)",
  ],
  [/\$\$/, "dollar-quoted strings (DuckDB only): use a '…' literal"],
  [/\bNULLS\s+(FIRST|LAST)\b/i, ''],
];

function lintPortableSql(job: JobDef, statements: JobStatement[]): void {
  const outputs = new Set(job.outputs.map((o) => o.statement));
  for (const s of statements) {
    const code = withoutStrings(s.sql);
    for (const [re, advice] of NON_PORTABLE) {
      if (advice && re.test(/^(backslashes|regexp_replace|a doubled quote)/.test(advice) ? s.sql : code))
        throw new JobSqlError(job.name, `statement ${s.name} uses ${advice}`);
    }
    // NULL ordering differs (DuckDB: NULLS LAST by default, Spark: NULLS FIRST for ASC): make it explicit.
    for (const m of code.matchAll(/ORDER\s+BY\s+([\s\S]*?)(\)|$)/gi)) {
      const keys = (m[1] ?? '').split(',');
      for (const key of keys) {
        if (!/NULLS\s+(FIRST|LAST)/i.test(key)) {
          throw new JobSqlError(
            job.name,
            `statement ${s.name}: ORDER BY key "${key.trim()}" needs NULLS FIRST or NULLS LAST`,
          );
        }
      }
    }
    for (const m of code.matchAll(/(?<![:\w]):([a-z_][a-z0-9_]*)/g)) {
      const name = m[1]!;
      if (name !== 'run_date' && name !== 'run_id' && !job.params.includes(name)) {
        throw new JobSqlError(job.name, `statement ${s.name} uses undeclared parameter :${name}`);
      }
    }
    if (s.kind === 'output' && !outputs.has(s.name))
      throw new JobSqlError(job.name, `@output ${s.name} is not a declared output`);
  }
  for (const o of outputs) {
    if (!statements.some((s) => s.kind === 'output' && s.name === o))
      throw new JobSqlError(job.name, `declared output ${o} has no @output statement`);
  }
  if (!statements.some((s) => s.kind === 'metrics'))
    throw new JobSqlError(job.name, 'a @metrics statement (rows_in, deduplicated, filtered) is required');
}
