import type { Command } from 'commander';
import { type Clock, clockOf } from '../core/clock.ts';
import { type Config, loadConfig } from '../core/config.ts';
import { Lake } from '../core/lake.ts';
import { createLogger, type Logger } from '../core/logging.ts';

export interface GlobalOptions {
  config?: string;
  lake?: string;
  verbose?: boolean;
  logLevel?: string;
}

export interface CliContext {
  readonly config: Config;
  /** The one clock (config `clock.now` / DEALFINDER_NOW). */
  readonly clock: Clock;
  readonly lake: Lake;
  readonly log: Logger;
  readonly out: NodeJS.WritableStream;
  readonly isTty: boolean;
}

/** Shared set-up of every command: config (file + env + flags), lake and logger. */
export function contextOf(command: Command, out: NodeJS.WritableStream): CliContext {
  const g = command.optsWithGlobals<GlobalOptions>();
  const config = loadConfig({ file: g.config, overrides: g.lake ? { lake: { root: g.lake } } : {} });
  const isTty = Boolean((process.stderr as NodeJS.WriteStream).isTTY);
  // On a terminal the progress display tells the story; JSON logs are for pipes and schedulers.
  const level = g.logLevel ?? process.env.DEALFINDER_LOG_LEVEL ?? (isTty ? 'warn' : 'info');
  return {
    config,
    clock: clockOf(config),
    lake: new Lake(config.lake.root, { metaRoot: config.lake.metaRoot }),
    log: createLogger({}, level),
    out,
    isTty,
  };
}
