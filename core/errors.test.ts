import { describe, expect, it } from 'vitest';
import { MigrationBusyError, MigrationGateError, SourceUnreadableError } from '../migration/errors.ts';
import {
  ConfigError,
  DataQualityError,
  DateRangeTooLongError,
  DealFinderError,
  DeliveryError,
  EngineTransientError,
  EXIT_CODE_OF,
  exitCodeOf,
  HttpStatusError,
  InputMissingError,
  isRetryable,
  JobFailedError,
  KafkaUnreachableError,
  NetworkError,
  UnknownJobError,
  UsageError,
} from './errors.ts';
import { dateRange } from './lake.ts';

describe('the error hierarchy', () => {
  it('gives every class a stable kebab-case code, a hint and its exit category', () => {
    const cases: [DealFinderError<object>, string, number][] = [
      [new UsageError('bad flag'), 'usage', 2],
      [new UnknownJobError('nope', ['cleanup']), 'job-unknown', 2],
      [new DateRangeTooLongError('2010-01-01', '2026-01-01', 3660), 'date-range-too-long', 2],
      [new DataQualityError('cleanup', ['validity']), 'data-quality-failed', 3],
      [new InputMissingError('no run', 'list runs'), 'missing-input', 4],
      [new SourceUnreadableError('/x', new Error('gone')), 'migration-source-unreadable', 4],
      [new ConfigError('bad'), 'config-invalid', 5],
      [new JobFailedError('cleanup', new Error('boom'), false), 'job-failed', 1],
      [new KafkaUnreachableError(['127.0.0.1:1'], new Error('ECONNREFUSED')), 'kafka-unreachable', 1],
      [
        new MigrationGateError('load', 'load gate failed: 2 rejected', 'see status'),
        'migration-gate-failed',
        3,
      ],
    ];
    for (const [error, code, exit] of cases) {
      expect(error).toBeInstanceOf(DealFinderError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(error.hint).toBeTruthy();
      expect(error.exitCode).toBe(exit);
      expect(exitCodeOf(error)).toBe(exit);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(EXIT_CODE_OF).toMatchObject({
      usage: 2,
      'data-quality': 3,
      'missing-input': 4,
      config: 5,
      failure: 1,
    });
    expect(exitCodeOf(new TypeError('x is not a function'))).toBe(1);
  });

  it('carries typed, read-only details', () => {
    const e = new UnknownJobError('nope', ['cleanup', 'features']);
    expect(e.details).toEqual({ job: 'nope', known: ['cleanup', 'features'] });
    expect(Object.isFrozen(e.details)).toBe(true);
    const k = new KafkaUnreachableError(['a:9092', 'b:9092'], new Error('down'));
    expect(k.message).toContain('a:9092, b:9092');
    expect(k.hint).toMatch(/streaming\.brokers .*DEALFINDER_STREAMING_BROKERS/);
    expect(new HttpStatusError(503, 'busy', 'GET /x').details).toMatchObject({
      status: 503,
      request: 'GET /x',
    });
  });

  it('maps the legacy exitCode option of the generic constructor to a category', () => {
    expect(new DealFinderError('run-not-found', 'x', { exitCode: 4 }).category).toBe('missing-input');
    expect(new DealFinderError('emr-cancelled', 'x', { exitCode: 130 }).exitCode).toBe(130);
    expect(new DealFinderError('query-failed', 'x').category).toBe('failure');
  });

  it('turns a 10-year backfill into a usage error, not a bug', () => {
    expect(() => dateRange('2016-01-01', '2026-01-10')).toThrow(DateRangeTooLongError);
    expect(dateRange('2026-01-30', '2026-02-02')).toEqual([
      '2026-01-30',
      '2026-01-31',
      '2026-02-01',
      '2026-02-02',
    ]);
    expect(dateRange('2026-02-02', '2026-02-01')).toEqual([]);
  });
});

describe('isRetryable: by type, never by message text', () => {
  it('follows the flag of our own errors', () => {
    expect(isRetryable(new EngineTransientError('duckdb', 'IO Error: x', 'retry'))).toBe(true);
    expect(isRetryable(new JobFailedError('j', new Error('HTTP 503'), false))).toBe(false);
    expect(isRetryable(new MigrationBusyError('/state'))).toBe(true);
    expect(isRetryable(new DeliveryError('hook', 'HTTP 400', false, 400))).toBe(false);
    expect(isRetryable(new HttpStatusError(429, '', 'POST /_bulk'))).toBe(true);
    expect(isRetryable(new HttpStatusError(503, '', 'POST /_bulk'))).toBe(true);
    expect(isRetryable(new HttpStatusError(400, 'HTTP timed out ECONNRESET', 'POST /_bulk'))).toBe(false);
    expect(isRetryable(new NetworkError('GET /', new Error('whatever')))).toBe(true);
  });

  it('ignores what a message says', () => {
    for (const m of [
      'HTTP 503',
      'IO Error: read failed',
      'timed out',
      'ECONNRESET',
      'SlowDown',
      'Throttling',
    ])
      expect(isRetryable(new Error(m)), m).toBe(false);
  });

  it('reads client-library flags, timeouts and system error codes (also on the cause)', () => {
    expect(isRetryable(Object.assign(new Error('x'), { retriable: true }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { retriable: false, code: 'ECONNRESET' }))).toBe(false);
    expect(isRetryable(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    const fetchFailure = new TypeError('fetch failed', {
      cause: Object.assign(new Error('c'), { code: 'ECONNRESET' }),
    });
    expect(isRetryable(fetchFailure)).toBe(true);
    expect(isRetryable('a string')).toBe(false);
    expect(isRetryable(null)).toBe(false);
  });
});
