/** What every phase gets: the state store, the operational options, and output channels. */
import type { S3Client } from '@aws-sdk/client-s3';
import cliProgress from 'cli-progress';
import { MIGRATION_DEFAULTS, type MigrationConfig } from '../core/config/migration.ts';
import type { ErrorDetails } from '../core/errors.ts';
import type { RetryPolicy } from '../core/retry.ts';
import { MigrationGateError, MigrationOrderError } from './errors.ts';
import { type ChromaSource, openSource } from './source/index.ts';
import type { Phase, StateStore } from './state.ts';
import { OpenSearch } from './target.ts';

export interface RunOptions {
  /** Bulk requests in flight at most (the loader lowers it on 429/5xx and raises it back). */
  readonly concurrency: number;
  /** Source reads in flight (directory sources: chromadb reader processes; 2 fits two cores). */
  readonly readers: number;
  readonly retry: RetryPolicy;
  readonly recallMin: number;
  readonly probes: number;
  readonly k: number;
  readonly efSearch: number;
  readonly sampleSize: number;
  readonly maxQuarantineRate: number;
  readonly shadowQueries: number;
  readonly shadowSeconds: number;
  readonly yes: boolean;
  readonly minAgeHours: number;
  /** The config flag file cutover/rollback write (the pricing service reads it). */
  readonly flagFile: string;
  readonly seed: number;
  readonly force: boolean;
  readonly python?: string | undefined;
  /** S3 client for an s3:// staging location (built from the `aws` config by the CLI). */
  readonly s3?: S3Client | undefined;
}

/** The run options a `migration` config section gives (the CLI's flags override them). */
export function runOptionsOf(section: MigrationConfig): Omit<RunOptions, 'flagFile'> {
  return {
    concurrency: section.concurrency,
    readers: section.readers,
    retry: section.retry,
    recallMin: section.recallMin,
    probes: section.probes,
    k: section.k,
    efSearch: section.efSearch,
    sampleSize: section.sampleSize,
    maxQuarantineRate: section.maxQuarantineRate,
    shadowQueries: section.shadowQueries,
    shadowSeconds: section.shadowSeconds,
    yes: false,
    minAgeHours: section.minAgeHours,
    seed: section.seed,
    force: false,
    python: section.python,
  };
}

/** The defaults of the `migration` config section as run options. */
export const DEFAULT_OPTIONS: Omit<RunOptions, 'flagFile'> = runOptionsOf(MIGRATION_DEFAULTS);

export interface Progress {
  update(done: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

export interface PhaseContext {
  readonly store: StateStore;
  readonly opts: RunOptions;
  /** What the phase did, for humans (stdout). */
  print(line: string): void;
  progress(label: string, total: number, unit: string): Progress;
}

/** A cli-progress bar with docs/s and ETA on a terminal; on a pipe, a line every ~10%. */
export function progressFactory(
  isTty: boolean,
  stream: NodeJS.WritableStream,
): (label: string, total: number, unit: string) => Progress {
  return (label, total, unit) => {
    const started = Date.now();
    if (isTty) {
      const bar = new cliProgress.SingleBar(
        {
          stream: stream as NodeJS.WriteStream,
          format: ` ${label.padEnd(9)} {bar} {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { rate: '0' });
      return {
        update: (done) =>
          bar.update(done, {
            rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)).toString(),
          }),
        stop: () => bar.stop(),
      };
    }
    let nextMark = 0.1;
    return {
      update: (done) => {
        if (total > 0 && done / total >= nextMark && done < total) {
          const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
          const eta = rate > 0 ? (total - done) / rate : 0;
          stream.write(
            `  ${label}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit} (${Math.round(rate)} ${unit}/s, ETA ${eta.toFixed(0)} s)\n`,
          );
          while (done / total >= nextMark) nextMark += 0.1;
        }
      },
      stop: () => {},
    };
  };
}

/** The source, with `readers` parallel readers where whole-collection scans need them. */
export function sourceOf(ctx: PhaseContext, readers = 1): Promise<ChromaSource> {
  const s = ctx.store.state.params.source;
  return openSource(
    {
      location: s.location,
      collection: s.collection,
      tenant: s.tenant,
      database: s.database,
      python: ctx.opts.python,
    },
    readers,
  );
}

export function targetOf(ctx: PhaseContext): OpenSearch {
  return new OpenSearch(ctx.store.state.params.target.url, ctx.opts.retry);
}

export function requireDone(ctx: PhaseContext, phase: Phase, before: Phase | 'shadow-mode'): void {
  if (!ctx.store.isDone(phase)) throw new MigrationOrderError(before, phase);
}

/** The versioned index setup-target created (every later phase works on it). */
export function targetIndexOf(ctx: PhaseContext, phase: Phase): string {
  const index = ctx.store.state.facts.index;
  if (index === undefined) throw new MigrationOrderError(phase, 'setup-target');
  return index;
}

export function gateFailed<D extends ErrorDetails = Readonly<Record<never, never>>>(
  phase: Phase,
  message: string,
  details?: D,
): MigrationGateError<D> {
  return new MigrationGateError(
    phase,
    `${phase} gate failed: ${message}`,
    'see `dealctl migrate status` and the phase report in the state directory; fix, then rerun the phase',
    details,
  );
}

export const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Records per read request to the source: whole batches, about 5,000 records (Chroma's get costs
 * about half as much per record at 5,000 as at 1,000); files and checkpoints stay per batch.
 */
export function readChunkOf(batchSize: number): number {
  return batchSize * Math.max(1, Math.floor(5000 / batchSize));
}

/** Deterministic PRNG (mulberry32) for samples and probe queries. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
