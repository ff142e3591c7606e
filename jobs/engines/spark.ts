import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../core/config.ts';
import { DealFinderError } from '../../core/errors.ts';
import { TABLES } from '../../core/lake.ts';
import { dqMetricsSql } from '../dq-sql.ts';
import type { JobStatement } from '../job.ts';
import { MACROS, type MacroDef } from '../macros.ts';
import type { JobPlan } from '../plan.ts';
import type { Engine, JobResult } from './engine.ts';
import type { RunnerItem } from './runner-result.ts';

/** The PySpark runner every Spark launch executes (local spark-submit and EMR steps alike). */
export const SPARK_RUNNER = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'spark',
  'runner.py',
);

/** Session settings the job SQL relies on; the runner sets them for every plan. */
export const SPARK_SESSION_CONF: Readonly<Record<string, string>> = {
  'spark.sql.session.timeZone': 'UTC',
  // TIMESTAMP in job SQL means zone-less, like DuckDB's TIMESTAMP.
  'spark.sql.timestampType': 'TIMESTAMP_NTZ',
  'spark.sql.parquet.outputTimestampType': 'TIMESTAMP_MICROS',
  // Errors instead of silent NULLs on bad casts and overflows (Spark 4's default): job SQL uses TRY_CAST.
  'spark.sql.ansi.enabled': 'true',
};

// ---------------------------------------------------------------------------------------------
// Plans for Spark: the JobPlan plus the Spark-ready SQL, computed here so the runner stays thin.
// ---------------------------------------------------------------------------------------------

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

/** Index just past the literal/comment starting at i, or -1 when none starts there. */
function skipOpaque(sql: string, i: number): number {
  const ch = sql[i];
  if (ch === "'" || ch === '"' || ch === '`') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === ch) {
        if (sql[j + 1] === ch) j += 2;
        else return j + 1;
      } else j++;
    }
    throw new Error(`unterminated ${ch} literal in SQL: ${sql.slice(i, i + 40)}…`);
  }
  if (ch === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (ch === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    if (end < 0) throw new Error('unterminated /* comment in SQL');
    return end + 2;
  }
  return -1;
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

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

export interface SparkSettings {
  /** spark-submit executable. */
  readonly submit: string;
  /** PYSPARK_PYTHON / PYSPARK_DRIVER_PYTHON, when set. */
  readonly python?: string | undefined;
  readonly master: string;
  readonly driverMemory: string;
  readonly shufflePartitions: number;
  readonly conf: Readonly<Record<string, string>>;
  readonly startTimeoutMs: number;
  readonly jobTimeoutMs: number;
  /** Environment of spark-submit (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Spark settings from the config; spark-submit and Python fall back to $SPARK_SUBMIT / $SPARK_PYTHON. */
export function sparkSettings(config: Config, env: NodeJS.ProcessEnv = process.env): SparkSettings {
  const s = config.spark;
  return {
    submit: s.submit ?? env.SPARK_SUBMIT ?? 'spark-submit',
    python: s.python ?? env.SPARK_PYTHON,
    master: s.master,
    driverMemory: s.driverMemory,
    shufflePartitions: s.shufflePartitions,
    conf: s.conf,
    startTimeoutMs: s.startTimeoutMs,
    jobTimeoutMs: s.jobTimeoutMs,
    env,
  };
}

/** The spark-submit argument list of the long-lived driver. */
export function sparkSubmitArgs(settings: SparkSettings, workDir: string, serveAddress: string): string[] {
  const local = settings.master.startsWith('local');
  const conf: Record<string, string> = {
    'spark.ui.enabled': 'false',
    'spark.ui.showConsoleProgress': 'false',
    'spark.sql.shuffle.partitions': String(settings.shufflePartitions),
    // No _SUCCESS markers: the lake lists *.parquet and commits whole folders.
    'spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs': 'false',
    ...SPARK_SESSION_CONF,
    ...(local
      ? {
          'spark.driver.host': '127.0.0.1',
          'spark.driver.bindAddress': '127.0.0.1',
          'spark.local.dir': path.join(workDir, 'local'),
          'spark.sql.warehouse.dir': path.join(workDir, 'warehouse'),
        }
      : {}),
    ...settings.conf,
  };
  return [
    '--master',
    settings.master,
    '--driver-memory',
    settings.driverMemory,
    '--name',
    'dealfinder',
    ...Object.keys(conf)
      .sort()
      .flatMap((k) => ['--conf', `${k}=${conf[k]}`]),
    SPARK_RUNNER,
    '--serve',
    serveAddress,
  ];
}

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

/** A job that Spark rejected or failed (SQL error, bad data): not retryable unless it looks like I/O. */
export class SparkJobError extends Error {
  constructor(
    readonly job: string,
    readonly sparkMessage: string,
    readonly errorClass?: string,
  ) {
    super(`spark: ${sparkMessage}`);
    this.name = 'SparkJobError';
  }
}

function transient(message: string, hint: string, cause?: unknown): DealFinderError {
  return new DealFinderError('engine-transient', message, { retryable: true, hint, cause });
}

interface Pending {
  resolve(reply: Record<string, unknown>): void;
  reject(error: unknown): void;
}

interface Driver {
  readonly child: ChildProcess;
  readonly server: Server;
  socket?: Socket;
  readonly ready: Promise<void>;
}

/**
 * Runs job plans on Apache Spark through ONE long-lived spark-submit (jobs/spark/runner.py
 * --serve) started on the first run() and kept until close(): launching costs ~10 s, so a whole
 * nightly run pays it once while runNightly still plans and commits job by job. The runner
 * connects back to a loopback socket of this engine (spark-submit does not forward stdin to
 * Python); each run() writes the plan (sparkPlanOf) to a file, sends its path as one JSON line
 * and waits for the answer line; the result file has the counts, files and DQ metrics.
 *
 * If the driver dies or a job exceeds jobTimeoutMs, the driver is stopped and the run fails
 * with a retryable error; the next run() starts a new driver.
 */
export class SparkEngine implements Engine {
  readonly name = 'spark' as const;
  /** Wall time of every statement run so far, as measured by the driver. */
  readonly timings: { job: string; statement: string; ms: number }[] = [];
  /** Launch wall time of each driver started (ms): spark-submit until the runner is ready. */
  readonly launches: number[] = [];

  private driver: Driver | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly logTail: string[] = [];
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly workDir: string;
  private closed = false;
  private readonly onProcessExit = () => this.killDriver();
  private sparkVersion: string | undefined;

  constructor(readonly settings: SparkSettings) {
    this.workDir = mkdtempSync(path.join(tmpdir(), 'dealfinder-spark-'));
  }

  static async create(settings: SparkSettings): Promise<SparkEngine> {
    return new SparkEngine(settings);
  }

  /** Version reported by the running driver (after the first run or start()). */
  get version(): string | undefined {
    return this.sparkVersion;
  }

  /** Starts the driver now instead of on the first run (optional warm-up). */
  async start(): Promise<void> {
    await this.ensureDriver().ready;
  }

  run(plan: JobPlan, signal?: AbortSignal): Promise<JobResult> {
    const result = this.queue.then(() => this.runNow(plan, signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(plan: JobPlan, signal?: AbortSignal): Promise<JobResult> {
    if (this.closed) throw new Error('SparkEngine is closed');
    signal?.throwIfAborted();
    const started = performance.now();
    await this.ensureDriver().ready;
    const id = this.nextId++;
    const plansFile = path.join(this.workDir, `plans-${id}.json`);
    const resultFile = path.join(this.workDir, `result-${id}.json`);
    writeFileSync(plansFile, JSON.stringify([sparkPlanOf(plan)]));
    try {
      const reply = await this.request(id, { id, plans: plansFile, result: resultFile }, signal);
      if (reply.fatal) throw new Error(`spark runner: ${String(reply.fatal)}`);
      const parsed = JSON.parse(readFileSync(resultFile, 'utf8')) as { items: RunnerItem[] };
      const item = parsed.items[0];
      if (!item) throw new Error('spark runner returned no result');
      for (const t of item.timings ?? [])
        this.timings.push({ job: plan.job, statement: t.statement, ms: t.ms });
      if (!item.ok) throw new SparkJobError(plan.job, item.error ?? 'unknown error', item.errorClass);
      const quarantine = plan.outputs.find((o) => o.table === 'quarantine');
      const byCode = quarantine ? item.outputs?.[quarantine.statement]?.byCode : undefined;
      return {
        job: plan.job,
        outputs: item.outputs ?? {},
        metrics: item.metrics ?? { rows_in: 0, deduplicated: 0, filtered: 0 },
        durationMs: performance.now() - started,
        ...(byCode ? { quarantineByCode: byCode } : {}),
      };
    } finally {
      rmSync(plansFile, { force: true });
      rmSync(resultFile, { force: true });
    }
  }

  private request(id: number, message: object, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const socket = this.driver?.socket;
    if (!socket) return Promise.reject(transient('spark driver is not running', 'retry'));
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        this.setRef(this.pending.size > 0);
      };
      const onAbort = () => {
        cleanup();
        this.killDriver();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(() => {
        cleanup();
        this.killDriver();
        reject(
          transient(
            `spark job timed out after ${this.settings.jobTimeoutMs} ms; the driver was stopped`,
            'raise spark.jobTimeoutMs or give the driver more memory (spark.driverMemory)',
          ),
        );
      }, this.settings.jobTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (r) => {
          cleanup();
          resolve(r);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      });
      this.setRef(true);
      socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  private ensureDriver(): Driver {
    if (this.driver) return this.driver;
    const t0 = performance.now();
    const s = this.settings;
    const token = randomBytes(16).toString('hex');
    const server = createServer();
    let fail: (error: unknown) => void = () => undefined;
    let onReady: (reply: Record<string, unknown>) => void = () => undefined;
    const readyReply = new Promise<Record<string, unknown>>((resolve, reject) => {
      onReady = resolve;
      fail = reject;
    });
    const keep = (line: string) => {
      this.logTail.push(line);
      if (this.logTail.length > 200) this.logTail.shift();
    };
    const lost = (why: string, cause?: unknown) => {
      if (this.driver !== driver) return;
      const error = transient(
        `spark driver ${why}\n${this.logTail.slice(-40).join('\n')}`,
        'check the Spark log above; the next run starts a new driver',
        cause,
      );
      this.killDriver();
      for (const p of [...this.pending.values()]) p.reject(error);
      fail(error);
    };
    server.on('connection', (socket) => {
      if (driver.socket) return socket.destroy();
      let greeted = false;
      createInterface({ input: socket }).on('line', (line) => {
        let reply: Record<string, unknown>;
        try {
          reply = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return keep(line);
        }
        if (!greeted) {
          if (reply.hello !== token) return socket.destroy();
          greeted = true;
          driver.socket = socket;
          socket.on('close', () => lost('closed its connection'));
          onReady(reply);
        } else if (typeof reply.id === 'number') this.pending.get(reply.id)?.resolve(reply);
      });
      socket.on('error', () => undefined);
    });
    const listening = new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
    const env: NodeJS.ProcessEnv = { ...(s.env ?? process.env), DEALFINDER_SPARK_TOKEN: token };
    // These make pyspark download another Spark build or change the launch: never inherit them.
    delete env.PYSPARK_HADOOP_VERSION;
    delete env.PYSPARK_HIVE_VERSION;
    delete env.PYSPARK_SUBMIT_ARGS;
    if (s.python) {
      env.PYSPARK_PYTHON = s.python;
      env.PYSPARK_DRIVER_PYTHON = s.python;
    }
    if (s.master.startsWith('local')) env.SPARK_LOCAL_IP = '127.0.0.1';
    let child!: ChildProcess;
    const driver: Driver = {
      server,
      get child() {
        return child;
      },
      ready: (async () => {
        const port = await listening;
        child = spawn(s.submit, sparkSubmitArgs(s, this.workDir, `127.0.0.1:${port}`), {
          cwd: this.workDir,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          // Own process group: stopping the driver stops the JVM and its Python children together.
          detached: true,
        });
        process.on('exit', this.onProcessExit);
        this.logTail.length = 0;
        createInterface({ input: child.stdout! }).on('line', keep);
        createInterface({ input: child.stderr! }).on('line', keep);
        child.on('error', (e) => {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
            return lost(`could not be started: ${e.message}`, e);
          const err = new DealFinderError('service-unavailable', `spark-submit not found: ${s.submit}`, {
            hint: 'install Spark 3.5 (pip install pyspark==3.5.*) and set SPARK_SUBMIT or spark.submit in the config',
            cause: e,
          });
          this.killDriver();
          fail(err);
        });
        child.on('exit', (code, sig) => lost(`exited (${sig ?? `code ${code}`})`));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                transient(
                  `spark driver did not start within ${s.startTimeoutMs} ms\n${this.logTail.slice(-40).join('\n')}`,
                  'raise spark.startTimeoutMs; check JAVA_HOME (Java 8/11/17 for Spark 3.5)',
                ),
              ),
            s.startTimeoutMs,
          );
        });
        try {
          const reply = await Promise.race([readyReply, timeout]);
          this.sparkVersion = String(reply.spark ?? '');
          this.launches.push(performance.now() - t0);
          this.setRef(false);
        } catch (error) {
          this.killDriver();
          throw error;
        } finally {
          clearTimeout(timer);
        }
      })(),
    };
    driver.ready.catch(() => undefined);
    this.driver = driver;
    return driver;
  }

  /** Keeps Node alive only while a request is in flight (an idle driver never blocks exit). */
  private setRef(on: boolean): void {
    const d = this.driver;
    if (!d) return;
    const handles = [d.server, d.socket, d.child, d.child?.stdout, d.child?.stderr] as unknown as (
      | { ref?(): void; unref?(): void }
      | undefined
    )[];
    for (const h of handles) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }

  private killDriver(): void {
    const d = this.driver;
    this.driver = undefined;
    if (!d) return;
    process.off('exit', this.onProcessExit);
    d.socket?.destroy();
    d.server.close();
    const child = d.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    const d = this.driver;
    const child = d?.child;
    if (d?.socket && child?.pid && child.exitCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.driver = undefined; // a graceful exit is not a lost driver
      d.socket.end(`${JSON.stringify({ op: 'exit' })}\n`);
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        gone.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 20_000))),
      ]);
      clearTimeout(timer);
      this.driver = d;
      if (!exited) this.killDriver();
    }
    this.killDriver();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
