import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.ts';
import { createLogger } from './logging.ts';

describe('createLogger', () => {
  it('takes the known levels and refuses an unknown one as a usage error', () => {
    expect(createLogger({}, 'silent').level).toBe('silent');
    expect(createLogger({}, 'warn').level).toBe('warn');
    expect(() => createLogger({}, 'loud')).toThrow(UsageError);
    expect(() => createLogger({}, 'loud')).toThrow(/log level "loud" is not one of trace, debug/);
  });
});
