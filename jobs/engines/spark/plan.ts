/**
 * The plan format of the PySpark runner (jobs/spark/runner.py): planJob()'s JobPlan plus the
 * Spark-ready SQL (macros inlined), the DQ SQL of each output and the session settings. What a
 * local Spark driver runs is what an EMR step runs (pipelines/emr/plans.ts uploads these).
 */
import { TABLES } from '../../../core/lake.ts';
import { dqMetricsSql } from '../../dq-sql.ts';
import type { JobStatement } from '../../job.ts';
import { MACROS, type MacroDef } from '../../macros.ts';
import type { JobPlan } from '../../plan.ts';
import { opaqueSpanAt } from '../../sql-text.ts';
import { SPARK_SESSION_CONF } from './settings.ts';

/** What the runner needs on top of a JobPlan. */
export interface SparkExtras {
  /** The plan's statements, in order, with every macro call inlined (Spark 3.5 has no SQL UDFs). */
  readonly statements: readonly JobStatement[];
  /** Statements to run before the job (SQL function definitions); empty while macros are inlined. */
  readonly macroStatements: readonly string[];
  /** Per output statement: the view the written output is read back under, and its DQ SQL. */
  readonly dqViews: Record<string, string>;
  readonly dq: Record<string, string>;
  readonly conf: Record<string, string>;
}

/** A JobPlan as the runner reads it: planJob()'s object with one extra `spark` key. */
export type SparkPlan = JobPlan & { readonly spark: SparkExtras };

/** The plan in the runner's format (also what an EMR run uploads as plans.json, one per job). */
export function sparkPlanOf(plan: JobPlan): SparkPlan {
  const dqViews: Record<string, string> = {};
  const dq: Record<string, string> = {};
  for (const o of plan.outputs) {
    const view = `__dq_${o.statement}`;
    dqViews[o.statement] = view;
    dq[o.statement] = dqMetricsSql(TABLES[o.table].record, view);
  }
  return {
    ...plan,
    spark: {
      statements: plan.statements.map((s) => ({ ...s, sql: inlineSparkMacros(s.sql) })),
      macroStatements: [],
      dqViews,
      dq,
      conf: { ...SPARK_SESSION_CONF },
    },
  };
}

/**
 * Replaces every call of a platform macro (jobs/macros.ts) by its Spark body, arguments
 * substituted as `CAST((arg) AS <param type>)` — what a Spark SQL UDF with typed parameters
 * would do. Needed because Spark 3.5 cannot define SQL functions
 * (`CREATE TEMPORARY FUNCTION f(x T) RETURNS … RETURN …` is a parse error before Spark 4.x).
 * String literals, quoted identifiers and comments are left alone; nested calls are expanded.
 */
export function inlineSparkMacros(sql: string, macros: readonly MacroDef[] = MACROS): string {
  const byName = new Map(macros.map((m) => [m.name.toLowerCase(), m]));
  return expand(sql, byName, 0);
}

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]/;

/** Index just past the literal/comment starting at i, or -1 when none starts there (the shared lexer). */
function skipOpaque(sql: string, i: number): number {
  return opaqueSpanAt(sql, i)?.end ?? -1;
}

/** Splits the arguments of a call whose '(' is at `open`; returns them and the index after ')'. */
function callArgs(sql: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let i = open + 1;
  while (i < sql.length) {
    const skip = skipOpaque(sql, i);
    if (skip >= 0) {
      i = skip;
      continue;
    }
    const ch = sql[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) {
        const last = sql.slice(start, i);
        if (args.length > 0 || last.trim() !== '') args.push(last);
        return { args, end: i + 1 };
      }
      depth--;
    } else if (ch === ',' && depth === 0) {
      args.push(sql.slice(start, i));
      start = i + 1;
    }
    i++;
  }
  throw new Error(`unbalanced parentheses in SQL after: ${sql.slice(open, open + 60)}…`);
}

function expand(sql: string, macros: Map<string, MacroDef>, depth: number): string {
  if (depth > 16) throw new Error('macro expansion nested too deeply');
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const skip = skipOpaque(sql, i);
    if (skip >= 0) {
      out += sql.slice(i, skip);
      i = skip;
      continue;
    }
    const ch = sql[i]!;
    if (IDENT_START.test(ch) && !/[\w.]/.test(sql[i - 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && IDENT.test(sql[j]!)) j++;
      const word = sql.slice(i, j);
      const macro = macros.get(word.toLowerCase());
      let k = j;
      while (k < sql.length && /\s/.test(sql[k]!)) k++;
      if (macro && sql[k] === '(') {
        const { args, end } = callArgs(sql, k);
        if (args.length !== macro.params.length)
          throw new Error(`${macro.name}() takes ${macro.params.length} arguments, got ${args.length}`);
        const values = new Map(
          macro.params.map((p, n) => [
            p.name.toLowerCase(),
            `CAST((${expand(args[n]!.trim(), macros, depth + 1)}) AS ${p.sparkType})`,
          ]),
        );
        out += `(${substitute(macro.spark, values)})`;
        i = end;
        continue;
      }
      out += word;
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** The macro body with its parameter names (bare identifiers, not function names) replaced. */
function substitute(body: string, values: Map<string, string>): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    const skip = skipOpaque(body, i);
    if (skip >= 0) {
      out += body.slice(i, skip);
      i = skip;
      continue;
    }
    const ch = body[i]!;
    if (IDENT_START.test(ch) && !/[\w.]/.test(body[i - 1] ?? '')) {
      let j = i + 1;
      while (j < body.length && IDENT.test(body[j]!)) j++;
      const word = body.slice(i, j);
      const value = values.get(word.toLowerCase());
      out += value !== undefined && !/^\s*\(/.test(body.slice(j)) ? value : word;
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}
