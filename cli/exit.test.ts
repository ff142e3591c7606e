import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { DealFinderError, InputMissingError, UsageError } from '../core/errors.ts';
import { reportError, runProgram } from './exit.ts';
import { CliSession } from './io.ts';

function capture() {
  const err: string[] = [];
  const sink = { write: (s: string) => err.push(s) > 0 } as unknown as NodeJS.WritableStream;
  return { io: { out: sink, err: sink }, text: () => err.join('') };
}

describe('the one error → exit-code mapping', () => {
  it('maps typed errors to their exit code, one line plus the hint', () => {
    const c = capture();
    expect(reportError(new InputMissingError('no lake at /x', 'give --lake'), c.io, false)).toBe(4);
    expect(c.text()).toBe('error[missing-input]: no lake at /x\nhint: give --lake\n');
    expect(reportError(new UsageError('bad'), capture().io, false)).toBe(2);
    expect(reportError(new DealFinderError('job-failed', 'boom', { exitCode: 1 }), capture().io, false)).toBe(
      1,
    );
  });

  it("maps Commander's own errors to usage (2), help and version to 0, and prints nothing more", () => {
    const c = capture();
    expect(reportError(new CommanderError(1, 'commander.unknownOption', 'x'), c.io, false)).toBe(2);
    expect(reportError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), c.io, false)).toBe(
      0,
    );
    expect(c.text()).toBe('');
  });

  it('calls anything else a bug: first line only, stack only when verbose', () => {
    const quiet = capture();
    expect(reportError(new Error('kaput\nsecond line'), quiet.io, false)).toBe(1);
    expect(quiet.text()).toMatch(/^error\[internal\]: kaput\nhint: .*--verbose/);
    expect(quiet.text()).not.toContain('second line');
    const verbose = capture();
    reportError(new Error('kaput'), verbose.io, true);
    expect(verbose.text()).toContain('    at ');
  });

  it("returns the session's exit code, never the global process.exitCode", async () => {
    const c = capture();
    const session = new CliSession(c.io);
    const program = new Command('t').exitOverride();
    program.command('half').action(() => session.fail(3));
    process.exitCode = undefined;
    expect(await runProgram(program, session, ['node', 't', 'half'])).toBe(3);
    expect(process.exitCode).toBeUndefined();
    session.fail(1);
    expect(session.exitCode).toBe(3);
  });
});
