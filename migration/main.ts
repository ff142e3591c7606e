/**
 * Stand-alone entry of `migrate` (the same command dealctl registers): used by the crash tests
 * and the benchmark to run phases in a child process. Usage: node --import tsx migration/main.ts migrate <phase> …
 */
import { Command, CommanderError } from 'commander';
import { migrateCommand } from '../cli/commands/migrate.ts';
import { DealFinderError, EXIT_CODES } from '../core/errors.ts';

const io = { out: process.stdout, err: process.stderr };
const program = new Command('dealctl')
  .option('-c, --config <file>', 'config file')
  .option('--lake <dir>', 'lake root')
  .option('--log-level <level>', 'log level')
  .exitOverride();
program.addCommand(migrateCommand(io));
try {
  await program.parseAsync(process.argv);
  process.exitCode = EXIT_CODES.ok;
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : EXIT_CODES.usage;
  else if (error instanceof DealFinderError) {
    io.err.write(`error[${error.code}]: ${error.message}\n`);
    if (error.hint) io.err.write(`hint: ${error.hint}\n`);
    process.exitCode = error.exitCode;
  } else {
    io.err.write(`error[internal]: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT_CODES.failure;
  }
}
