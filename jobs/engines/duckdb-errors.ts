/**
 * DuckDB's errors carry their exception type only as the first words of the message
 * ("IO Error: …", "HTTP Error: …", "Binder Error: …"): @duckdb/node-api exposes no other field.
 * This reads that type at the engine boundary, so the rest of the code decides by error type.
 */
import { EngineTransientError, messageOf } from '../../core/errors.ts';

/** DuckDB exception types another attempt may get past: I/O (network file systems, S3) and HTTP. */
const TRANSIENT_EXCEPTION_TYPES = new Set(['IO', 'HTTP']);

/** The DuckDB exception type of an error ("IO", "Binder", "Conversion", …), or undefined. */
export function duckdbExceptionTypeOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return /^([A-Z][A-Za-z ]*?) Error: /.exec(error.message)?.[1];
}

/** A transient DuckDB failure as a retryable EngineTransientError; any other error as it is. */
export function classifyDuckdbError(error: unknown): unknown {
  const type = duckdbExceptionTypeOf(error);
  if (type === undefined || !TRANSIENT_EXCEPTION_TYPES.has(type)) return error;
  return new EngineTransientError(
    'duckdb',
    messageOf(error),
    'an I/O or HTTP error reading or writing the lake; it is retried (pipeline.retries)',
    error,
  );
}
