/** dealctl, the command-line interface of the platform: the program, its runner and its exit mapping. */
export { reportError, runProgram } from './exit.ts';
export { type CliIo, CliSession, processIo } from './io.ts';
export { COMMAND_NAMES, createCli, main } from './main.ts';
