/**
 * npm run services -- up kafka opensearch     start (or reuse) services, print their env lines
 * npm run services -- up kafka --export       same, as `export KEY=value` lines for eval
 * npm run services -- down [names…]          stop (default: every running service)
 * npm run services -- status [--json]        what runs, who owns it, its env and log file
 * npm run services -- provision [names…]     download/install only (default: all services)
 * npm run services -- logs kafka [-n 100]    tail of a service's log
 * npm run services -- reap                   reap what crashed runs left behind
 *
 * Services started here are owned by 'cli': test runs reuse them and never stop them.
 * Progress goes to stderr, env lines to stdout.
 */
import { Command } from 'commander';
import {
  down,
  provision,
  reapStale,
  ServicePrerequisiteError,
  ServiceStartError,
  status,
  up,
} from './harness.js';
import { serviceLogFile } from './paths.js';
import { tailFile } from './process.js';
import { assertServiceNames, SERVICE_NAMES } from './registry.js';

function quoteForShell(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('services')
    .description('Real services for the Deal Finder integration tests (loopback only, cached under .cache/)')
    .showHelpAfterError();

  let exitCode = 0;

  program
    .command('up')
    .description('start (or reuse) services and print their env lines')
    .argument('<names...>', `services: ${SERVICE_NAMES.join(', ')}`)
    .option('--export', 'print `export KEY=value` lines (for eval)')
    .action(async (names: string[], opts: { export?: boolean }) => {
      const env = await up(assertServiceNames(names), { owner: 'cli' });
      for (const [key, value] of Object.entries(env)) {
        process.stdout.write(opts.export ? `export ${key}=${quoteForShell(value)}\n` : `${key}=${value}\n`);
      }
    });

  program
    .command('down')
    .description('stop services (default: all that run)')
    .argument('[names...]', 'services to stop')
    .action(async (names: string[]) => {
      const stopped = await down(names.length > 0 ? assertServiceNames(names) : undefined);
      process.stderr.write(stopped.length > 0 ? `stopped: ${stopped.join(', ')}\n` : 'nothing was running\n');
    });

  program
    .command('status')
    .description('show instances, owners, env and log files')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const all = await status();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      for (const s of all) {
        const env = Object.entries(s.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        const parts = [s.name.padEnd(11), s.health.padEnd(10)];
        if (s.owner) parts.push(`owner=${s.owner}`);
        if (s.pids.length > 0) parts.push(`pids=${s.pids.join(',')}`);
        if (env) parts.push(env);
        if (s.detail) parts.push(`(${s.detail})`);
        process.stdout.write(`${parts.join('  ')}\n`);
        if (s.health !== 'stopped') process.stdout.write(`${' '.repeat(13)}log: ${s.logFile}\n`);
      }
    });

  program
    .command('provision')
    .description('download and install only (default: all services)')
    .argument('[names...]', 'services to provision')
    .action(async (names: string[]) => {
      const targets = names.length > 0 ? assertServiceNames(names) : [...SERVICE_NAMES];
      for (const name of targets) {
        try {
          const timings = await provision([name]);
          process.stderr.write(`${name}: provisioned in ${((timings[name] ?? 0) / 1000).toFixed(1)}s\n`);
        } catch (error) {
          exitCode = 1;
          process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    });

  program
    .command('logs')
    .description("print the tail of a service's log")
    .argument('<name>', 'service')
    .option('-n, --lines <n>', 'number of lines', '60')
    .action(async (name: string, opts: { lines: string }) => {
      const [service] = assertServiceNames([name]);
      const file = serviceLogFile(service!);
      process.stderr.write(`--- ${file} ---\n`);
      process.stdout.write(`${tailFile(file, Number(opts.lines) || 60)}\n`);
    });

  program
    .command('reap')
    .description('reap instances left by crashed runs (dead owners, unhealthy, orphans)')
    .action(async () => {
      const reaped = await reapStale();
      process.stderr.write(reaped.length > 0 ? `reaped: ${reaped.join(', ')}\n` : 'nothing stale\n');
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof ServicePrerequisiteError) return 2;
    if (error instanceof ServiceStartError) return 1;
    return 1;
  }
  return exitCode;
}

// Explicit exit: started daemons are detached (own process group, output to files)
// and must not keep this CLI alive.
main(process.argv).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
