import { type Logger, pino } from 'pino';
import { UsageError } from './errors.ts';

/** The levels pino knows, plus "silent". */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

function isLogLevel(value: string): value is (typeof LOG_LEVELS)[number] {
  return LOG_LEVELS.some((l) => l === value);
}

/**
 * JSON logs on stderr (stdout is for results). Level from DEALFINDER_LOG_LEVEL (default info;
 * "silent" in tests). The TTY progress display replaces info logs, not warnings or errors.
 * An unknown level is a usage error (it comes from --log-level or DEALFINDER_LOG_LEVEL).
 */
export function createLogger(bindings: Record<string, unknown> = {}, level?: string): Logger {
  const wanted = level ?? process.env.DEALFINDER_LOG_LEVEL ?? 'info';
  if (!isLogLevel(wanted))
    throw new UsageError(
      `log level "${wanted}" is not one of ${LOG_LEVELS.join(', ')}`,
      'fix --log-level or DEALFINDER_LOG_LEVEL',
    );
  return pino(
    {
      level: wanted,
      base: { ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

export type { Logger };
