/**
 * Local Apache Spark for tests: pyspark 3.5 from PyPI in the shared Python venv
 * (python-env.ts). Not a daemon: start() only checks that spark-submit runs and hands
 * tests the paths and environment to call it with; every test's spark-submit is its
 * own short-lived JVM (local[2] on this 2-core machine).
 *
 * start() also writes a SPARK_CONF_DIR into ctx.runDir whose spark-defaults.conf pins
 * everything to loopback and to the instance folder (driver host/bind address
 * 127.0.0.1, no UI, 512 MB driver, UTC session time zone, local/warehouse/ivy dirs
 * under runDir) and whose log4j2.properties keeps Spark at WARN. Explicit
 * --master/--conf arguments still win over the defaults.
 *
 * Env handed to tests:
 *   SPARK_HOME       <venv>/lib/python3.x/site-packages/pyspark (jars/, bin/)
 *   SPARK_SUBMIT     <venv>/bin/spark-submit
 *   SPARK_PYTHON     <venv>/bin/python (use as PYSPARK_PYTHON/PYSPARK_DRIVER_PYTHON)
 *   JAVA_HOME        a Java 8/11/17 home (Spark 3.5 does not support newer JDKs)
 *   SPARK_LOCAL_IP   127.0.0.1
 *   SPARK_CONF_DIR   <runDir>/spark-conf
 * Use sparkSubmitEnv(env) to build a child-process environment from them.
 * PYSPARK_HADOOP_VERSION / PYSPARK_HIVE_VERSION are never set (they make pyspark's
 * installer download a different Spark build).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensurePythonEnv, javaHomeOf, pythonPrerequisite, runCommand, tail } from './python-env.js';
import type { ServiceContext, ServiceDefinition, StartedService } from './types.js';

/** Java major versions Spark 3.5 runs on. */
const SUPPORTED_JAVA = new Set([8, 11, 17]);

interface JavaInfo {
  readonly home: string;
  readonly major: number;
}

async function javaMajor(javaBin: string): Promise<number | null> {
  const result = await runCommand(javaBin, ['-version'], { timeoutMs: 20_000 });
  if (result.code !== 0) return null;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr + result.stdout);
  if (!m) return null;
  const first = Number(m[1]);
  return first === 1 ? Number(m[2]) : first;
}

let javaPromise: Promise<JavaInfo | string> | undefined;

/**
 * A JDK Spark 3.5 supports: $JAVA_HOME, then `java` on PATH, then /usr/lib/jvm/*.
 * A string result is the reason none was found.
 */
export function findSparkJava(): Promise<JavaInfo | string> {
  javaPromise ??= (async () => {
    const homes: string[] = [];
    if (process.env.JAVA_HOME) homes.push(process.env.JAVA_HOME);
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const candidate = path.join(dir, 'java');
      if (dir && existsSync(candidate)) {
        const home = javaHomeOf(candidate);
        if (home) homes.push(home);
        break;
      }
    }
    try {
      for (const entry of (await readdir('/usr/lib/jvm')).sort())
        homes.push(path.join('/usr/lib/jvm', entry));
    } catch {
      /* no /usr/lib/jvm */
    }
    const seen: string[] = [];
    for (const home of [...new Set(homes)]) {
      const bin = path.join(home, 'bin', 'java');
      if (!existsSync(bin)) continue;
      const major = await javaMajor(bin);
      if (major !== null && SUPPORTED_JAVA.has(major)) return { home, major };
      seen.push(`${home} (Java ${major ?? '?'})`);
    }
    return `no Java 8/11/17 for Spark 3.5 found (looked at JAVA_HOME, java on PATH, /usr/lib/jvm: ${seen.join(', ') || 'none'})`;
  })();
  return javaPromise;
}

/** Child-process environment for spark-submit built from the service env. */
export function sparkSubmitEnv(
  env: Record<string, string | undefined>,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  delete out.PYSPARK_HADOOP_VERSION;
  delete out.PYSPARK_HIVE_VERSION;
  delete out.PYSPARK_SUBMIT_ARGS;
  const need = (key: string): string => {
    const value = env[key];
    if (!value) throw new Error(`sparkSubmitEnv: ${key} missing from the spark service env`);
    return value;
  };
  out.JAVA_HOME = need('JAVA_HOME');
  out.SPARK_HOME = need('SPARK_HOME');
  out.PYSPARK_PYTHON = need('SPARK_PYTHON');
  out.PYSPARK_DRIVER_PYTHON = need('SPARK_PYTHON');
  out.SPARK_LOCAL_IP = env.SPARK_LOCAL_IP ?? '127.0.0.1';
  if (env.SPARK_CONF_DIR) out.SPARK_CONF_DIR = env.SPARK_CONF_DIR;
  return { ...out, ...extra };
}

async function writeSparkConf(runDir: string): Promise<string> {
  const confDir = path.join(runDir, 'spark-conf');
  await mkdir(confDir, { recursive: true });
  for (const sub of ['spark-local', 'spark-warehouse', 'ivy', 'derby'])
    await mkdir(path.join(runDir, sub), { recursive: true });
  const defaults = [
    ['spark.master', 'local[2]'],
    ['spark.driver.memory', '512m'],
    ['spark.ui.enabled', 'false'],
    ['spark.ui.showConsoleProgress', 'false'],
    ['spark.driver.host', '127.0.0.1'],
    ['spark.driver.bindAddress', '127.0.0.1'],
    ['spark.sql.session.timeZone', 'UTC'],
    ['spark.sql.shuffle.partitions', '4'],
    ['spark.local.dir', path.join(runDir, 'spark-local')],
    ['spark.sql.warehouse.dir', path.join(runDir, 'spark-warehouse')],
    ['spark.jars.ivy', path.join(runDir, 'ivy')],
    ['spark.driver.extraJavaOptions', `-Dderby.system.home=${path.join(runDir, 'derby')}`],
  ];
  await writeFile(
    path.join(confDir, 'spark-defaults.conf'),
    `# written by test/services/spark.ts\n${defaults.map(([k, v]) => `${k}  ${v}`).join('\n')}\n`,
  );
  await writeFile(
    path.join(confDir, 'log4j2.properties'),
    [
      '# written by test/services/spark.ts: Spark logs at WARN to stderr',
      'rootLogger.level = warn',
      'rootLogger.appenderRef.stdout.ref = console',
      'appender.console.type = Console',
      'appender.console.name = console',
      'appender.console.target = SYSTEM_ERR',
      'appender.console.layout.type = PatternLayout',
      'appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex',
      'logger.parquet.name = org.apache.parquet',
      'logger.parquet.level = error',
      '',
    ].join('\n'),
  );
  return confDir;
}

export const service: ServiceDefinition = {
  name: 'spark',
  description:
    'Apache Spark 3.5 (pyspark from PyPI, shared venv): spark-submit --master local[2], not a daemon',
  startTimeoutMs: 90_000,
  provisionTimeoutMs: 20 * 60_000,

  async checkPrerequisites(): Promise<string | null> {
    const python = await pythonPrerequisite();
    if (python) return python;
    const java = await findSparkJava();
    return typeof java === 'string' ? java : null;
  },

  async provision(ctx: ServiceContext): Promise<void> {
    await ensurePythonEnv(ctx, this.provisionTimeoutMs);
  },

  async start(ctx: ServiceContext): Promise<StartedService> {
    const started = Date.now();
    const venv = await ensurePythonEnv(ctx, this.provisionTimeoutMs);
    const java = await findSparkJava();
    if (typeof java === 'string') throw new Error(java);
    const where = await runCommand(
      venv.python,
      ['-c', 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'],
      {
        timeoutMs: 30_000,
      },
    );
    const sparkHome = where.stdout.trim().split('\n').pop() ?? '';
    if (where.code !== 0 || !existsSync(path.join(sparkHome, 'jars'))) {
      throw new Error(
        `spark: pyspark not importable from ${venv.python}: ${where.error ?? where.stderr.slice(-2000)}`,
      );
    }
    const confDir = await writeSparkConf(ctx.runDir);
    const env: Record<string, string> = {
      SPARK_HOME: sparkHome,
      SPARK_SUBMIT: venv.bin('spark-submit'),
      SPARK_PYTHON: venv.python,
      JAVA_HOME: java.home,
      SPARK_LOCAL_IP: '127.0.0.1',
      SPARK_CONF_DIR: confDir,
    };
    // Health check: the launcher and the JVM start (about 1-2 s).
    const version = await runCommand(env.SPARK_SUBMIT as string, ['--version'], {
      timeoutMs: Math.max(5_000, this.startTimeoutMs - (Date.now() - started)),
      env: sparkSubmitEnv(env),
      logFile: ctx.logFile,
      cwd: ctx.runDir,
    });
    const m = /version (\d+\.\d+\.\d+)/.exec(version.stdout + version.stderr);
    if (version.code !== 0 || !m) {
      throw new Error(
        `spark: spark-submit --version failed (${version.error ?? `exit ${version.code}`})\n${tail(ctx.logFile, 30)}`,
      );
    }
    ctx.log(`spark ${m[1]} ready (Java ${java.major} at ${java.home}) in ${Date.now() - started} ms`);
    return { pids: [], env };
  },
};
