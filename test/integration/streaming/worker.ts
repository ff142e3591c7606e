/**
 * Child-process entry of the streaming integration tests: `dealctl stream …` built from the real
 * command (cli/commands/stream.ts), without the rest of the CLI.
 */
import { Command } from 'commander';
import { streamCommand } from '../../../cli/commands/stream.ts';

const program = new Command('dealctl')
  .option('-c, --config <file>')
  .option('--lake <dir>')
  .option('--log-level <level>')
  .exitOverride();
program.addCommand(streamCommand({ out: process.stdout, err: process.stderr }));
try {
  await program.parseAsync(process.argv);
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
} catch (error) {
  process.stderr.write(`worker failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
