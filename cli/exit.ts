import { type Command, CommanderError } from 'commander';
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';
import type { CliIo, CliSession } from './io.ts';

/**
 * The one error → exit-code mapping of every dealctl program: Commander's own errors (its
 * message is already printed) are usage errors, a DealFinderError prints
 * `error[<code>]: <message>` and its hint and exits with its code, anything else is a bug.
 */
export function reportError(error: unknown, io: CliIo, verbose: boolean): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  if (error instanceof DealFinderError) {
    io.err.write(`error[${error.code}]: ${error.message}\n`);
    if (error.hint) io.err.write(`hint: ${error.hint}\n`);
    if (verbose && error.stack) io.err.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  io.err.write(`error[internal]: ${e.message.split('\n')[0]}\n`);
  io.err.write('hint: this is a bug or an environment problem; rerun with --verbose for the stack trace\n');
  if (verbose && e.stack) io.err.write(`${e.stack}\n`);
  return EXIT_CODES.failure;
}

/** Parses argv with `program` and returns the exit code: the session's, or the mapped error's. */
export async function runProgram(program: Command, session: CliSession, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return session.exitCode;
  } catch (error) {
    const verbose = Boolean(program.opts().verbose) || process.env.DEALFINDER_VERBOSE === '1';
    return reportError(error, session.io, verbose);
  }
}

/** Routes a command tree's output to the session and makes Commander throw instead of exiting. */
export function configureTree(command: Command, io: CliIo): void {
  command
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });
  for (const sub of command.commands) configureTree(sub, io);
}
