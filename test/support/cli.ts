import { main } from '../../cli/index.ts';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs dealctl in-process with captured stdout/stderr and returns its exit code. */
export async function runCli(args: string[]): Promise<CliResult> {
  const chunks = { out: '', err: '' };
  const sink = (key: 'out' | 'err') =>
    ({
      write: (s: string) => {
        chunks[key] += s;
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await main(['node', 'dealctl', ...args], { out: sink('out'), err: sink('err') });
  return { code, ...chunks };
}
