/** Where a dealctl invocation writes: results to `out`, diagnostics and progress to `err`. */
export interface CliIo {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}

export const processIo = (): CliIo => ({ out: process.stdout, err: process.stderr });

/**
 * One invocation of a Commander program: its streams and the exit code its actions report.
 * Actions set `exitCode` (a failed step, a mismatching topic) instead of the global
 * `process.exitCode`, so in-process callers (tests, the stream worker) get their own result.
 */
export class CliSession {
  exitCode = 0;
  constructor(readonly io: CliIo = processIo()) {}

  /** Records a non-zero exit code; the first failure wins over later ones. */
  fail(code: number): void {
    if (code !== 0 && this.exitCode === 0) this.exitCode = code;
  }
}
