import { Command } from 'commander';
import { configureTree, runProgram } from './exit.ts';
import { type CliIo, CliSession, processIo } from './io.ts';

/** Fills a top-level command (options, arguments, subcommands, action) once it is invoked. */
export type CommandDefinition = (command: Command, session: CliSession) => void;

/**
 * The top-level commands: a name, a one-line description and where the definition lives.
 * Definitions are imported only for the command being run (or whose help is shown), so
 * `dealctl --help` loads Commander alone and `dealctl query` never loads the AWS SDK or kafkajs.
 */
const COMMANDS: Record<string, { description: string; load: () => Promise<CommandDefinition> }> = {
  nightly: {
    description:
      'Run the nightly batch pipeline (cleanup → enrichment → price_trends → features) for one date.',
    load: async () => (await import('./commands/nightly.ts')).defineNightly,
  },
  backfill: {
    description:
      'Run the nightly pipeline for every date of a range, oldest first (idempotent: unchanged dates are skipped).',
    load: async () => (await import('./commands/backfill.ts')).defineBackfill,
  },
  runs: {
    description: 'Inspect the run ledger.',
    load: async () => (await import('./commands/runs.ts')).defineRuns,
  },
  sample: {
    description:
      'Generate deterministic sample data (catalog + raw deal feeds with real-world dirt) into the lake.',
    load: async () => (await import('./commands/sample.ts')).defineSample,
  },
  ingest: {
    description:
      'Land deal records in the raw zone for the nightly: RSS/Atom feeds (file or http(s) URL), JSON lines / JSON arrays of raw deals, raw-deal Parquet. Entries land in the partition of the day they were seen.',
    load: async () => (await import('./commands/ingest.ts')).defineIngest,
  },
  catalog: {
    description:
      'The product catalog the deals are matched and priced against: import a real one, list its versions.',
    load: async () => (await import('./commands/catalog.ts')).defineCatalog,
  },
  query: {
    description:
      'Run read-only SQL (DuckDB dialect) over the lake. Views: raw_deals, products, deals, quarantine, enriched_deals, price_trends, features, runs, dq_results.',
    load: async () => (await import('./commands/query.ts')).defineQuery,
  },
  jobs: {
    description: 'Inspect the batch jobs.',
    load: async () => (await import('./commands/jobs.ts')).defineJobs,
  },
  migrate: {
    description:
      'ChromaDB → OpenSearch k-NN migration, phase by phase (each idempotent, checkpointed, resumable). See docs/runbooks/migration.md.',
    load: async () => (await import('./commands/migrate.ts')).defineMigrate,
  },
  emr: {
    description: 'Spark on AWS EMR: dry run, cluster/step status, cancel, step logs.',
    load: async () => (await import('./commands/emr.ts')).defineEmr,
  },
  stream: {
    description:
      'The real-time path over Kafka: scanner → parse → price → evaluate → notify (see docs/streaming.md).',
    load: async () => (await import('./commands/stream.ts')).defineStream,
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

/** Builds the dealctl program; commands write results to io.out and diagnostics to io.err. */
export function createCli(session: CliSession = new CliSession()): Command {
  const { io } = session;
  const program = new Command('dealctl')
    .description('Deal Finder data platform: nightly batch pipeline, lake queries and operations.')
    .option(
      '-c, --config <file>',
      'config file (default: ./dealfinder.config.json when present, or $DEALFINDER_CONFIG)',
    )
    .option('--lake <dir>', 'lake root (overrides lake.root)')
    .option('--log-level <level>', 'log level: trace|debug|info|warn|error|silent')
    .option('-v, --verbose', 'show stack traces on errors')
    .showHelpAfterError('(run with --help for usage)');
  const defined = new Set<string>();
  for (const [name, { description }] of Object.entries(COMMANDS))
    program.command(name).description(description);
  // Commander awaits this hook before it parses the subcommand's own arguments.
  program.hook('preSubcommand', async (_program, sub) => {
    const entry = COMMANDS[sub.name()];
    if (!entry || defined.has(sub.name())) return;
    defined.add(sub.name());
    (await entry.load())(sub, session);
    configureTree(sub, io);
  });
  configureTree(program, io);
  return program;
}

/** Runs the CLI and returns its exit code (never calls process.exit, never reads process.exitCode). */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const session = new CliSession(io);
  return runProgram(createCli(session), session, argv);
}
