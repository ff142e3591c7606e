/**
 * Contract between the real-services harness core (harness.ts, global-setup.ts, cli.ts)
 * and one definition per service (kafka.ts, opensearch.ts, spark.ts, chroma.ts, moto.ts).
 *
 * A definition only knows how to provision itself into its cache folder and start one
 * instance on loopback; the core owns ports bookkeeping, pid files, reaping, locking,
 * log tails and teardown.
 */
export type ServiceName = 'kafka' | 'opensearch' | 'spark' | 'chroma' | 'moto';

export interface ServiceContext {
  /** Persistent, git-ignored download/install folder for this service (survives runs). */
  readonly cacheDir: string;
  /** Per-instance scratch folder (data dirs, configs); wiped before each start. */
  readonly runDir: string;
  /** File the service's stdout/stderr must go to; the core shows its tail on failure. */
  readonly logFile: string;
  /** Progress messages for humans (provisioning can take minutes). */
  readonly log: (message: string) => void;
  /** True under CI=true: missing prerequisites are failures, never skips. */
  readonly ci: boolean;
}

export interface StartedService {
  /** Every OS process the core must kill on teardown (process-group leaders preferred). */
  readonly pids: number[];
  /**
   * Connection facts handed to tests as environment-style variables, e.g.
   * KAFKA_BROKERS=127.0.0.1:39092, OPENSEARCH_URL=http://127.0.0.1:39200.
   */
  readonly env: Record<string, string>;
}

export interface ServiceDefinition {
  readonly name: ServiceName;
  readonly description: string;
  /** Upper bound for start() including the health check, in ms. */
  readonly startTimeoutMs: number;
  /** Upper bound for provision() on an empty cache, in ms. */
  readonly provisionTimeoutMs: number;
  /** null when this machine can run the service, else a specific reason ("java not found on PATH"). */
  checkPrerequisites(): Promise<string | null>;
  /** Idempotent: downloads and installs into ctx.cacheDir; fast no-op when already done. */
  provision(ctx: ServiceContext): Promise<void>;
  /** Starts one instance bound to 127.0.0.1 on free ports and resolves once it is healthy. */
  start(ctx: ServiceContext): Promise<StartedService>;
}
