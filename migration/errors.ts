/** The migration's errors: each case one class of the platform hierarchy (core/errors.ts). */
import { DealFinderError, type ErrorDetails, type ExitCategory } from '../core/errors.ts';
import type { Phase } from './state.ts';

type NoDetails = Readonly<Record<never, never>>;

/** The migration will not do what was asked (missing input, a target it must not touch, …). */
export class MigrationRefusedError<D extends ErrorDetails = NoDetails> extends DealFinderError<D> {
  constructor(
    message: string,
    hint: string | undefined,
    options: {
      details?: D;
      category?: ExitCategory;
      code?: 'migration-refused' | 'migration-dimension-mismatch';
      cause?: unknown;
    } = {},
  ) {
    super(options.code ?? 'migration-refused', message, {
      hint,
      category: options.category ?? 'missing-input',
      ...(options.details ? { details: options.details } : {}),
      cause: options.cause,
    });
  }
}

/** A phase's gate failed: the data does not meet the bar (quarantine rate, recall, checksums). */
export class MigrationGateError<D extends ErrorDetails = NoDetails> extends DealFinderError<
  { readonly phase: Phase | 'cutover' } & D
> {
  constructor(phase: Phase, message: string, hint: string, details?: D) {
    super('migration-gate-failed', message, {
      hint,
      category: 'data-quality',
      details: { ...(details ?? ({} as D)), phase },
    });
  }
}

/** A phase was started before the phase it needs. */
export class MigrationOrderError extends DealFinderError<{
  readonly phase: Phase;
  readonly needs: Phase;
}> {
  constructor(phase: Phase | 'shadow-mode', needs: Phase) {
    super('migration-gate-failed', `${phase} needs ${needs} to be done first`, {
      hint: `run \`dealctl migrate ${needs}\` (or \`dealctl migrate run\`)`,
      details: { phase: phase === 'shadow-mode' ? 'shadow' : phase, needs },
    });
  }
}

/** Another process holds the state directory's lock. */
export class MigrationBusyError extends DealFinderError<{ readonly stateDir: string }> {
  constructor(stateDir: string, cause?: unknown) {
    super('migration-busy', `another migrate process is working on ${stateDir}`, {
      hint: 'wait for it to finish, or stop it; a killed process leaves no live lock (it goes stale within seconds)',
      retryable: true,
      cause,
      details: { stateDir },
    });
  }
}

/** The Chroma store cannot be read (no server, not a persistent directory, a reader that died). */
export class SourceUnreadableError extends DealFinderError<{ readonly location: string }> {
  constructor(location: string, cause: unknown) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super('migration-source-unreadable', `cannot read the Chroma store at ${location}: ${msg}`, {
      hint: 'check the --source URL (server running?) or directory (a PersistentClient folder with chroma.sqlite3)',
      category: 'missing-input',
      cause,
      details: { location },
    });
  }
}

/** The vector-store flag file (what the services read to pick their store) is missing or malformed. */
export class VectorStoreFlagError extends DealFinderError<{ readonly file: string }> {
  constructor(file: string, message: string, hint: string, cause?: unknown) {
    super('vector-store-flag-invalid', message, {
      hint,
      category: 'missing-input',
      cause,
      details: { file },
    });
  }
}

/** OpenSearch refuses a whole bulk request when one document id is longer than this (UTF-8 bytes). */
export const MAX_DOCUMENT_ID_BYTES = 512;

/** Why OpenSearch would refuse this document id, or null when it is fine. */
export function documentIdProblem(id: string): string | null {
  const bytes = Buffer.byteLength(id, 'utf8');
  return bytes > MAX_DOCUMENT_ID_BYTES
    ? `document id is ${bytes} bytes; OpenSearch accepts at most ${MAX_DOCUMENT_ID_BYTES} (shorten the ids in the source)`
    : null;
}
