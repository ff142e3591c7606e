import { Command, CommanderError } from 'commander';
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';
import { backfillCommand } from './commands/backfill.ts';
import { catalogCommand } from './commands/catalog.ts';
import { emrCommand } from './commands/emr.ts';
import { ingestCommand } from './commands/ingest.ts';
import { jobsCommand } from './commands/jobs.ts';
import { migrateCommand } from './commands/migrate.ts';
import { nightlyCommand } from './commands/nightly.ts';
import { queryCommand } from './commands/query.ts';
import { runsCommand } from './commands/runs.ts';
import { sampleCommand } from './commands/sample.ts';
import { streamCommand } from './commands/stream.ts';

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Builds the dealctl program; commands write results to io.out and diagnostics to io.err. */
export function createCli(io: CliIo = { out: process.stdout, err: process.stderr }): Command {
  const program = new Command('dealctl')
    .description('Deal Finder data platform: nightly batch pipeline, lake queries and operations.')
    .option(
      '-c, --config <file>',
      'config file (default: ./dealfinder.config.json when present, or $DEALFINDER_CONFIG)',
    )
    .option('--lake <dir>', 'lake root (overrides lake.root)')
    .option('--log-level <level>', 'log level: trace|debug|info|warn|error|silent')
    .option('-v, --verbose', 'show stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride();
  program.addCommand(nightlyCommand(io));
  program.addCommand(backfillCommand(io));
  program.addCommand(runsCommand(io));
  program.addCommand(sampleCommand(io));
  program.addCommand(ingestCommand(io));
  program.addCommand(catalogCommand(io));
  program.addCommand(queryCommand(io));
  program.addCommand(jobsCommand(io));
  program.addCommand(migrateCommand(io));
  program.addCommand(emrCommand(io));
  program.addCommand(streamCommand(io));
  for (const c of program.commands)
    c.exitOverride().configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });
  return program;
}

/** Runs the CLI and returns the process exit code (never calls process.exit itself). */
export async function main(
  argv: string[],
  io: CliIo = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const program = createCli(io);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    const verbose = program.opts().verbose || process.env.DEALFINDER_VERBOSE === '1';
    if (error instanceof DealFinderError) {
      io.err.write(`error[${error.code}]: ${error.message}\n`);
      if (error.hint) io.err.write(`hint: ${error.hint}\n`);
      if (verbose && error.stack) io.err.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const e = error as Error;
    io.err.write(`error[internal]: ${e.message?.split('\n')[0] ?? String(error)}\n`);
    io.err.write('hint: this is a bug or an environment problem; rerun with --verbose for the stack trace\n');
    if (verbose && e.stack) io.err.write(`${e.stack}\n`);
    return EXIT_CODES.failure;
  }
}
