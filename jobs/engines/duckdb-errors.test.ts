import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { EngineTransientError, isRetryable } from '../../core/errors.ts';
import { classifyDuckdbError, duckdbExceptionTypeOf } from './duckdb-errors.ts';

describe('DuckDB errors at the engine boundary', () => {
  it('reads the exception type of real DuckDB errors; I/O ones become retryable, SQL ones stay as they are', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const io = await conn.run(`SELECT * FROM read_csv('/nonexistent/dir/x.csv')`).catch((e: unknown) => e);
      const binder = await conn.run('SELECT no_such_column FROM range(1)').catch((e: unknown) => e);
      expect(duckdbExceptionTypeOf(io)).toBe('IO');
      expect(duckdbExceptionTypeOf(binder)).toBe('Binder');
      const classified = classifyDuckdbError(io);
      expect(classified).toBeInstanceOf(EngineTransientError);
      expect(isRetryable(classified)).toBe(true);
      expect(classifyDuckdbError(binder)).toBe(binder);
      expect(isRetryable(classifyDuckdbError(binder))).toBe(false);
      expect(duckdbExceptionTypeOf(new Error('something mentioning IO Error: later'))).toBeUndefined();
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
