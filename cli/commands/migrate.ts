import path from 'node:path';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { awsClients } from '../../core/aws.ts';
import type { Config } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import {
  type BulkFormat,
  DEFAULT_OPTIONS,
  type Engine,
  type MigrationParams,
  type Phase,
  type PhaseContext,
  progressFactory,
  RUN_PHASES,
  type RunOptions,
  readVectorStoreFlag,
  runAll,
  runOptionsOf,
  runPhase,
  StateStore,
  setShadowMode,
} from '../../migration/index.ts';
import { PRODUCT_VECTOR_DIMENSION } from '../../schemas/index.ts';
import { contextOf } from '../context.ts';
import type { CliIo, CliSession } from '../io.ts';
import { wholeNumber as int, nonNegative as num } from '../options.ts';

const PHASE_HELP: Record<Phase, string> = {
  assess: 'read the source: collections, count, dimension, distance, metadata keys/types, size, zero vectors',
  'setup-target': 'create the versioned k-NN index (behind the alias, which moves at cutover)',
  export: 'stream all records to Parquet batch files with a manifest (checkpoint per batch)',
  transform: 'validate and map records; quarantine bad ones with reasons',
  load: 'bulk-load into the new index (bounded concurrency, retries, progress with docs/s and ETA)',
  verify: 'counts, field-by-field sample (vectors bit-exact), recall@k vs the source; JSON report',
  shadow: 'run the same queries against both stores for a bounded count/time; log differences',
  cutover: 'atomic alias swap to the new index + the config flag file',
  rollback: 'alias back to the previous index (the source is never touched)',
  cleanup: 'delete the old index (needs --yes and a minimum age since the cutover)',
};

function addOptions(c: Command): Command {
  return c
    .option('--state <dir>', 'state directory of this migration (default: <lake>/_migrations/<alias>)')
    .option(
      '--source <url|dir>',
      'Chroma server URL (HTTP API v2) or persistent directory [$DEALFINDER_MIGRATION_SOURCE]',
    )
    .option('--collection <name>', 'source collection', 'products')
    .option('--tenant <name>', 'Chroma tenant (server)', 'default_tenant')
    .option('--database <name>', 'Chroma database (server)', 'default_database')
    .option('--python <bin>', 'python with chromadb, for a directory source [$DEALFINDER_CHROMA_PYTHON]')
    .option('--target <url>', 'OpenSearch URL [$DEALFINDER_MIGRATION_TARGET]')
    .option('--alias <name>', 'alias the readers use; the index is <alias>-v<n>', 'products')
    .addOption(
      new Option('--engine <engine>', 'k-NN engine').choices(['lucene', 'faiss', 'nmslib']).default('lucene'),
    )
    .option('--shards <n>', 'primary shards of the new index', int('--shards'), 1)
    .addOption(
      new Option('--bulk-format <format>', 'bulk body encoding: smile (binary float32, faster) or json')
        .choices(['smile', 'json'])
        .default('smile'),
    )
    .option('--hnsw-m <n>', "HNSW m of the new index (default: the source collection's)", int('--hnsw-m'))
    .option(
      '--ef-construction <n>',
      "HNSW ef_construction of the new index (default: the source collection's)",
      int('--ef-construction'),
    )
    .option('--replicas <n>', 'replicas restored after the load', int('--replicas'), 1)
    .option('--refresh-interval <t>', 'refresh interval restored after the load', '1s')
    .option(
      '--staging <s3-uri>',
      'keep the export/transform Parquet files and manifests in S3 (s3://bucket/prefix; aws config for endpoint/region) instead of the state directory',
    )
    .option('--batch-size <n>', 'records per export batch / Parquet file', int('--batch-size'), 1000)
    .option(
      '--dimension <n|any>',
      `expected embedding dimension (refuse others); "any" accepts the source's`,
      String(PRODUCT_VECTOR_DIMENSION),
    )
    .option(
      '--concurrency <n>',
      'bulk requests in flight at most',
      int('--concurrency'),
      DEFAULT_OPTIONS.concurrency,
    )
    .option(
      '--readers <n>',
      'source reads in flight during assess and export (a directory source: chromadb reader processes)',
      int('--readers'),
      DEFAULT_OPTIONS.readers,
    )
    .option('--recall-min <x>', 'required mean recall@k', num('--recall-min'), DEFAULT_OPTIONS.recallMin)
    .option('--probes <n>', 'probe queries for the recall check', int('--probes'), DEFAULT_OPTIONS.probes)
    .option('-k, --top-k <n>', 'k of recall@k', int('--top-k'), DEFAULT_OPTIONS.k)
    .option(
      '--sample-size <n>',
      'records compared field by field',
      int('--sample-size'),
      DEFAULT_OPTIONS.sampleSize,
    )
    .option(
      '--max-quarantine-rate <x>',
      'transform gate',
      num('--max-quarantine-rate'),
      DEFAULT_OPTIONS.maxQuarantineRate,
    )
    .option(
      '--shadow-queries <n>',
      'shadow: queries at most',
      int('--shadow-queries'),
      DEFAULT_OPTIONS.shadowQueries,
    )
    .option(
      '--shadow-seconds <n>',
      'shadow: seconds at most',
      num('--shadow-seconds'),
      DEFAULT_OPTIONS.shadowSeconds,
    )
    .option('--flag-file <file>', 'vector-store flag file (default: <state>/vector-store.json)')
    .option('--yes', 'cleanup: confirm the deletion')
    .option(
      '--min-age-hours <h>',
      'cleanup: minimum age of the cutover',
      num('--min-age-hours'),
      DEFAULT_OPTIONS.minAgeHours,
    )
    .option('--seed <n>', 'seed of the verify sample and probes', int('--seed'), DEFAULT_OPTIONS.seed)
    .option('--force', 'run: redo phases already done');
}

interface Opts {
  state?: string;
  source?: string;
  collection: string;
  tenant: string;
  database: string;
  python?: string;
  target?: string;
  alias: string;
  engine: Engine;
  shards: number;
  bulkFormat: BulkFormat;
  hnswM?: number;
  efConstruction?: number;
  replicas: number;
  refreshInterval: string;
  batchSize: number;
  staging?: string;
  dimension: string;
  concurrency: number;
  readers: number;
  recallMin: number;
  probes: number;
  topK: number;
  sampleSize: number;
  maxQuarantineRate: number;
  shadowQueries: number;
  shadowSeconds: number;
  flagFile?: string;
  yes?: boolean;
  minAgeHours: number;
  seed: number;
  force?: boolean;
  until?: Phase;
}

function stateDirOf(opts: Opts, lakeRoot: string): string {
  return path.resolve(
    opts.state ?? process.env.DEALFINDER_MIGRATION_STATE ?? path.join(lakeRoot, '_migrations', opts.alias),
  );
}

/**
 * The options of a migrate command: a flag given on the command line wins, else the `migration`
 * config section (file, then DEALFINDER_MIGRATION_* variables), whose defaults are the flags'.
 */
function withConfig(command: Command, opts: Opts, m: Config['migration']): Opts {
  const pick = <K extends keyof Opts>(name: K, fromConfig: Opts[K]): Opts[K] =>
    command.getOptionValueSource(name) === 'cli' ? opts[name] : fromConfig;
  return {
    ...opts,
    state: pick('state', m.state),
    source: pick('source', m.source),
    collection: pick('collection', m.collection),
    tenant: pick('tenant', m.tenant),
    database: pick('database', m.database),
    python: pick('python', m.python),
    target: pick('target', m.target),
    alias: pick('alias', m.alias),
    engine: pick('engine', m.engine),
    shards: pick('shards', m.shards),
    bulkFormat: pick('bulkFormat', m.bulkFormat),
    replicas: pick('replicas', m.replicas),
    refreshInterval: pick('refreshInterval', m.refreshInterval),
    batchSize: pick('batchSize', m.batchSize),
    staging: pick('staging', m.staging),
    dimension: pick('dimension', String(m.dimension)),
    concurrency: pick('concurrency', m.concurrency),
    readers: pick('readers', m.readers),
    recallMin: pick('recallMin', m.recallMin),
    probes: pick('probes', m.probes),
    topK: pick('topK', m.k),
    sampleSize: pick('sampleSize', m.sampleSize),
    maxQuarantineRate: pick('maxQuarantineRate', m.maxQuarantineRate),
    shadowQueries: pick('shadowQueries', m.shadowQueries),
    shadowSeconds: pick('shadowSeconds', m.shadowSeconds),
    flagFile: pick('flagFile', m.flagFile),
    minAgeHours: pick('minAgeHours', m.minAgeHours),
    seed: pick('seed', m.seed),
  };
}

function phaseContext(io: CliIo, command: Command, given: Opts): PhaseContext {
  const cli = contextOf(command, io.out);
  const opts = withConfig(command, given, cli.config.migration);
  const dir = stateDirOf(opts, cli.lake.root);
  let store = StateStore.read(dir);
  const source =
    opts.source ?? process.env.DEALFINDER_MIGRATION_SOURCE ?? store?.state.params.source.location;
  const target = opts.target ?? process.env.DEALFINDER_MIGRATION_TARGET ?? store?.state.params.target.url;
  if (!source) throw new UsageError('no source: give --source <chroma-url|dir>');
  if (!target) throw new UsageError('no target: give --target <opensearch-url>');
  if (opts.batchSize < 1 || opts.batchSize > 10_000) throw new UsageError('--batch-size must be 1..10000');
  const dimension = opts.dimension === 'any' ? null : int('--dimension')(opts.dimension);
  const src = /^https?:\/\//.test(source) ? source.replace(/\/+$/, '') : path.resolve(source);
  const params: MigrationParams = store
    ? store.state.params
    : {
        source: { location: src, collection: opts.collection, tenant: opts.tenant, database: opts.database },
        target: {
          url: target.replace(/\/+$/, ''),
          alias: opts.alias,
          engine: opts.engine,
          shards: opts.shards,
          replicas: opts.replicas,
          refreshInterval: opts.refreshInterval,
          bulkFormat: opts.bulkFormat,
          ...(opts.hnswM !== undefined || opts.efConstruction !== undefined
            ? { hnsw: { m: opts.hnswM, efConstruction: opts.efConstruction } }
            : {}),
        },
        batchSize: opts.batchSize,
        ...(opts.staging ? { staging: opts.staging.replace(/\/+$/, '') } : {}),
        expectedDimension: dimension,
      };
  if (opts.staging && !/^s3a?:\/\/[^/]+/.test(opts.staging))
    throw new UsageError(`--staging must be an s3://bucket/prefix URI, not ${opts.staging}`);
  if (store) {
    // Explicit identity flags must match the stored migration.
    const given: MigrationParams = {
      ...params,
      source: { ...params.source, location: opts.source ? src : params.source.location },
      target: { ...params.target, url: opts.target ? target.replace(/\/+$/, '') : params.target.url },
    };
    store = StateStore.openOrCreate(dir, given);
  } else store = StateStore.openOrCreate(dir, params);
  const runOptions: RunOptions = {
    ...runOptionsOf(cli.config.migration),
    concurrency: Math.max(1, opts.concurrency),
    readers: Math.min(8, Math.max(1, opts.readers)),
    recallMin: opts.recallMin,
    probes: opts.probes,
    k: opts.topK,
    sampleSize: opts.sampleSize,
    maxQuarantineRate: opts.maxQuarantineRate,
    shadowQueries: opts.shadowQueries,
    shadowSeconds: opts.shadowSeconds,
    yes: Boolean(opts.yes),
    minAgeHours: opts.minAgeHours,
    flagFile: path.resolve(opts.flagFile ?? path.join(dir, 'vector-store.json')),
    seed: opts.seed,
    force: Boolean(opts.force),
    python: opts.python,
    s3: params.staging ? awsClients(cli.config).s3 : undefined,
  };
  const progressStream = process.stderr;
  return {
    store,
    opts: runOptions,
    print: (line) => io.out.write(`${line}\n`),
    progress: progressFactory(Boolean(progressStream.isTTY), progressStream),
  };
}

export function defineMigrate(migrate: Command, { io }: CliSession): void {
  for (const phase of Object.keys(PHASE_HELP) as Phase[]) {
    addOptions(migrate.command(phase).description(PHASE_HELP[phase])).action(
      async (opts: Opts, command: Command) => {
        const ctx = phaseContext(io, command, opts);
        try {
          await runPhase(ctx, phase);
        } finally {
          ctx.store.unlock();
        }
      },
    );
  }
  addOptions(
    migrate
      .command('run')
      .description(
        `all phases ${RUN_PHASES.join(' → ')}, skipping those done, stopping at the first failed gate`,
      ),
  )
    .addOption(
      new Option('--until <phase>', 'stop after this phase').choices([...RUN_PHASES]).default('cutover'),
    )
    .action(async (opts: Opts, command: Command) => {
      const ctx = phaseContext(io, command, opts);
      try {
        await runAll(ctx, opts.until);
        io.out.write(`Migration ${ctx.store.state.id}: done through ${opts.until}\n`);
      } finally {
        ctx.store.unlock();
      }
    });
  addOptions(
    migrate
      .command('shadow-mode')
      .argument('<on|off>', 'on: services using VectorStoreRouter mirror their live queries; off: stop')
      .description(
        'switch live shadow mode in the flag file: the pricing service keeps serving from its current store and mirrors each query to the other, logging differences',
      ),
  ).action(async (mode: string, opts: Opts, command: Command) => {
    if (mode !== 'on' && mode !== 'off') throw new UsageError(`shadow-mode: "${mode}" is not on or off`);
    const ctx = phaseContext(io, command, opts);
    try {
      setShadowMode(ctx, mode === 'on');
    } finally {
      ctx.store.unlock();
    }
  });
  migrate
    .command('status')
    .description("show the runbook's state: phases, results, facts")
    .option('--state <dir>', 'state directory (default: <lake>/_migrations/<alias>)')
    .option('--alias <name>', 'alias (for the default state directory)', 'products')
    .option('--flag-file <file>', 'vector-store flag file (default: <state>/vector-store.json)')
    .option('--json', 'JSON output')
    .action(
      (opts: { state?: string; alias: string; json?: boolean; flagFile?: string }, command: Command) => {
        const cli = contextOf(command, io.out);
        const m = cli.config.migration;
        const fromConfig = <T>(name: string, given: T, configured: T): T =>
          command.getOptionValueSource(name) === 'cli' ? given : configured;
        const dir = stateDirOf(
          {
            ...(opts as Opts),
            state: opts.state ?? m.state,
            alias: fromConfig('alias', opts.alias, m.alias),
          },
          cli.lake.root,
        );
        const store = StateStore.read(dir);
        if (!store) {
          io.out.write(
            `No migration state in ${dir} (start with \`dealctl migrate assess --source … --target …\`)\n`,
          );
          return;
        }
        const s = store.state;
        const flagFile = path.resolve(opts.flagFile ?? m.flagFile ?? path.join(dir, 'vector-store.json'));
        const flag = readVectorStoreFlag(flagFile);
        if (opts.json) {
          io.out.write(`${JSON.stringify({ ...s, vectorStoreFlag: flag }, null, 2)}\n`);
          return;
        }
        io.out.write(
          `Migration ${s.id} (state ${dir})\n  source ${s.params.source.location} collection ${s.params.source.collection}\n  target ${s.params.target.url} alias ${s.params.target.alias} index ${s.facts.index ?? '-'} engine ${s.params.target.engine}\n  dimension ${s.facts.dimension ?? '-'} space ${s.facts.space ?? '-'} records ${s.facts.count ?? '-'}${s.facts.cutover ? `\n  cutover ${s.facts.cutover.at}: ${s.facts.cutover.previous.join(', ') || '(none)'} → ${s.facts.cutover.index}${s.facts.rolledBackAt ? ` (rolled back ${s.facts.rolledBackAt})` : ''}` : ''}\n`,
        );
        io.out.write(
          flag
            ? `  services read ${flagFile}: serving from ${flag.backend}${flag.backend === 'opensearch' ? ` (alias ${flag.opensearch?.alias})` : ''}, live shadow ${flag.shadow ? `ON (mirroring to ${flag.backend === 'chroma' ? (flag.opensearch?.index ?? flag.opensearch?.alias) : 'Chroma'})` : 'off'}\n`
            : `  no flag file at ${flagFile} yet (written by shadow-mode, cutover and rollback)\n`,
        );
        const t = new Table({
          style: { head: [], border: [] },
          head: ['phase', 'status', 'attempts', 'ended', 'result'],
        });
        for (const p of Object.keys(PHASE_HELP) as Phase[]) {
          const r = s.phases[p];
          const summary = r?.error
            ? `${r.error.code}: ${r.error.message}`
            : r?.summary
              ? Object.entries(r.summary)
                  .filter(([, v]) => typeof v !== 'object' || v === null)
                  .slice(0, 6)
                  .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
                  .join(' ')
              : '';
          t.push([p, r?.status ?? 'pending', r?.attempts ?? 0, r?.endedAt ?? '-', summary.slice(0, 110)]);
        }
        io.out.write(`${t.toString()}\n`);
      },
    );
}
