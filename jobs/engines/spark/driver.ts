/**
 * The long-lived local Spark driver: ONE spark-submit of jobs/spark/runner.py --serve, started on
 * the first request and kept until close() (launching costs ~10 s). The runner connects back to a
 * loopback socket opened here (spark-submit does not forward stdin to Python), proves it is ours
 * with a one-time token, then answers one JSON line per request line.
 *
 * If the driver dies or a request exceeds jobTimeoutMs, the driver is stopped and the request
 * fails with a retryable error; the next request starts a new driver.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { EngineTransientError, ServiceUnavailableError } from '../../../core/errors.ts';
import { driverSubmitArgs, type SparkSettings } from './settings.ts';

function transient(message: string, hint: string, cause?: unknown): EngineTransientError {
  return new EngineTransientError('spark', message, hint, cause);
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

export class SparkDriver {
  /** Launch wall time of each driver started (ms): spark-submit until the runner is ready. */
  readonly launches: number[] = [];
  private driver: Driver | undefined;
  private readonly pending = new Map<number, Pending>();
  private readonly logTail: string[] = [];
  private nextId = 1;
  private readonly onProcessExit = () => this.kill();
  private sparkVersion: string | undefined;

  constructor(
    readonly settings: SparkSettings,
    private readonly workDir: string,
  ) {}

  /** Version reported by the running driver (after it started). */
  get version(): string | undefined {
    return this.sparkVersion;
  }

  /** Starts the driver unless it runs, and waits until the runner said hello. */
  async ready(): Promise<void> {
    await this.ensureDriver().ready;
  }

  /** Sends one request line and resolves with the runner's answer line of the same id. */
  request(message: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const id = this.nextId++;
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
        this.kill();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(() => {
        cleanup();
        this.kill();
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
      socket.write(`${JSON.stringify({ ...message, id })}\n`);
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
      this.kill();
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
        child = spawn(s.submit, driverSubmitArgs(s, this.workDir, `127.0.0.1:${port}`), {
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
          const err = new ServiceUnavailableError('spark', `spark-submit not found: ${s.submit}`, {
            hint: 'install Spark 3.5 (pip install pyspark==3.5.*) and set SPARK_SUBMIT or spark.submit in the config',
            retryable: false,
            cause: e,
          });
          this.kill();
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
          this.kill();
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

  /** Stops the driver at once (its whole process group). */
  kill(): void {
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

  /** Asks the runner to exit, waits up to 20 s, then kills what is left. */
  async close(): Promise<void> {
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
      if (!exited) this.kill();
    }
    this.kill();
  }
}
