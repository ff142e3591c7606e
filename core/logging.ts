import { type Logger, pino } from 'pino';

/**
 * JSON logs on stderr (stdout is for results). Level from DEALFINDER_LOG_LEVEL (default info;
 * "silent" in tests). The TTY progress display replaces info logs, not warnings or errors.
 */
export function createLogger(bindings: Record<string, unknown> = {}, level?: string): Logger {
  return pino(
    {
      level: level ?? process.env.DEALFINDER_LOG_LEVEL ?? 'info',
      base: { ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

export type { Logger };
