/** The dealctl process: runs the CLI on this process's arguments and exits with its code. */
import { main } from './main.ts';

process.exitCode = await main(process.argv);
