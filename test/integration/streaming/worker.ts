/**
 * Child-process entry of the streaming integration tests and bench/stream: the real dealctl
 * program from its TypeScript sources (so a test always runs the code under test, built or
 * not), with the CLI's exit mapping. dealctl loads only the `stream` command's modules.
 */
import { main } from '../../../cli/index.ts';

// Explicit exit: a stage's Kafka sockets must not keep a drained worker alive.
process.exit(await main(process.argv));
