/** Phases 8–10: cutover (atomic alias swap + flag file), rollback, cleanup. */
import { existsSync, readFileSync } from 'node:fs';
import { type PhaseContext, requireDone, targetIndexOf, targetOf } from './context.ts';
import { MigrationGateError, MigrationRefusedError } from './errors.ts';
import type { SpaceName } from './source/index.ts';
import { readJson, writeFileAtomic } from './state.ts';

/** What the pricing service reads to pick its vector store. */
export interface VectorStoreFlag {
  backend: 'chroma' | 'opensearch';
  /** Run both and log differences (ShadowComparator) while serving from `backend`. */
  shadow: boolean;
  opensearch: { url: string; alias: string; index: string | null } | null;
  chroma: { location: string; collection: string; tenant?: string; database?: string };
  /** The collection's distance (how the router reports OpenSearch distances); absent in old flags: l2. */
  space?: SpaceName;
  migration: string;
  at: string;
}

export function readVectorStoreFlag(file: string): VectorStoreFlag | null {
  return readJson<VectorStoreFlag>(file);
}

/** Writes the flag for this migration's source and space: what changes is backend, shadow, target. */
function writeFlag(
  ctx: PhaseContext,
  f: Pick<VectorStoreFlag, 'backend' | 'shadow' | 'opensearch'>,
): VectorStoreFlag {
  const { params, facts } = ctx.store.state;
  const flag: VectorStoreFlag = {
    ...f,
    chroma: {
      location: params.source.location,
      collection: params.source.collection,
      ...(params.source.tenant ? { tenant: params.source.tenant } : {}),
      ...(params.source.database ? { database: params.source.database } : {}),
    },
    ...(facts.space ? { space: facts.space } : {}),
    migration: ctx.store.state.id,
    at: new Date().toISOString(),
  };
  writeFileAtomic(ctx.opts.flagFile, `${JSON.stringify(flag, null, 2)}\n`);
  return flag;
}

export async function cutoverPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'verify', 'cutover');
  const shadow = ctx.store.phase('shadow');
  if (shadow && shadow.status === 'failed')
    throw new MigrationGateError(
      'cutover',
      'the last shadow run failed: no cutover',
      'rerun `dealctl migrate shadow` until it passes',
    );
  const { params, facts } = ctx.store.state;
  const index = targetIndexOf(ctx, 'cutover');
  const os = targetOf(ctx);
  const alias = params.target.alias;
  const current = await os.aliasTargets(alias);
  // Record the way back before touching anything.
  if (!facts.cutover || facts.rolledBackAt) {
    facts.cutover = {
      at: new Date().toISOString(),
      index,
      previous: current.filter((i) => i !== index),
      previousFlag: existsSync(ctx.opts.flagFile) ? readFileSync(ctx.opts.flagFile, 'utf8') : null,
    };
    delete facts.rolledBackAt;
    ctx.store.save();
  }
  const previous = facts.cutover.previous;
  if (current.length === 1 && current[0] === index) ctx.print(`Alias ${alias} already points at ${index}`);
  else {
    await os.updateAliases([
      ...current.map((i) => ({ remove: { index: i, alias } })),
      { add: { index, alias } },
    ]);
    ctx.print(
      `Alias ${alias}: ${current.length ? current.join(', ') : '(none)'} → ${index} (one atomic _aliases call)`,
    );
  }
  writeFlag(ctx, {
    backend: 'opensearch',
    shadow: false,
    opensearch: { url: params.target.url, alias, index },
  });
  ctx.print(`Flag ${ctx.opts.flagFile}: backend=opensearch (Chroma stays untouched for rollback)`);
  return { alias, index, previous, flagFile: ctx.opts.flagFile };
}

/**
 * Live shadow mode on or off: the flag keeps its backend (Chroma before cutover) and gains the
 * verified new index, so a service using VectorStoreRouter mirrors its real queries to the other
 * store and logs the differences. Needs verify done (the index exists and passed its gate).
 */
export function setShadowMode(ctx: PhaseContext, on: boolean): VectorStoreFlag {
  requireDone(ctx, 'verify', 'shadow-mode');
  const { params, facts } = ctx.store.state;
  const current = readVectorStoreFlag(ctx.opts.flagFile);
  const flag = writeFlag(ctx, {
    backend: current?.backend ?? 'chroma',
    shadow: on,
    opensearch: {
      url: params.target.url,
      alias: params.target.alias,
      index: facts.index ?? current?.opensearch?.index ?? null,
    },
  });
  ctx.print(
    `Flag ${ctx.opts.flagFile}: live shadow ${on ? 'ON' : 'off'} (serving from ${flag.backend}${on ? `, mirroring to ${flag.backend === 'chroma' ? `OpenSearch ${flag.opensearch?.index ?? flag.opensearch?.alias}` : 'Chroma'}` : ''})`,
  );
  return flag;
}

export async function rollbackPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  const { params, facts } = ctx.store.state;
  const c = facts.cutover;
  if (!c)
    throw new MigrationRefusedError(
      'nothing to roll back: there was no cutover',
      'see `dealctl migrate status`',
    );
  const os = targetOf(ctx);
  const alias = params.target.alias;
  const current = await os.aliasTargets(alias);
  const wanted = [...c.previous].sort();
  if (isSame(current, wanted))
    ctx.print(`Alias ${alias} already points at ${wanted.join(', ') || '(nothing)'}`);
  else {
    const actions: Record<string, unknown>[] = current
      .filter((i) => !wanted.includes(i))
      .map((i) => ({ remove: { index: i, alias } }));
    for (const i of wanted) if (!current.includes(i)) actions.push({ add: { index: i, alias } });
    await os.updateAliases(actions);
    ctx.print(
      `Alias ${alias}: ${current.join(', ') || '(none)'} → ${wanted.join(', ') || '(removed)'} (atomic)`,
    );
  }
  if (c.previousFlag !== null) writeFileAtomic(ctx.opts.flagFile, c.previousFlag);
  else writeFlag(ctx, { backend: 'chroma', shadow: false, opensearch: null });
  ctx.print(
    `Flag ${ctx.opts.flagFile} restored (${c.previousFlag === null ? 'backend=chroma' : 'previous content'}); the source was not touched`,
  );
  facts.rolledBackAt = new Date().toISOString();
  const cut = ctx.store.phase('cutover');
  if (cut) cut.status = 'rolled-back';
  ctx.store.save();
  return { alias, restored: wanted, from: current };
}

function isSame(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

export async function cleanupPhase(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'cutover', 'cleanup');
  const { params, facts } = ctx.store.state;
  const c = facts.cutover;
  if (!c || facts.rolledBackAt)
    throw new MigrationRefusedError(
      'the cutover was rolled back: nothing to clean up',
      'see `dealctl migrate status`',
    );
  const os = targetOf(ctx);
  const current = await os.aliasTargets(params.target.alias);
  const candidates = c.previous.filter((i) => !current.includes(i));
  const ageHours = (Date.now() - Date.parse(c.at)) / 3_600_000;
  if (!candidates.length) {
    ctx.print('No old index to delete');
    return { deleted: [] };
  }
  if (ageHours < ctx.opts.minAgeHours)
    throw new MigrationRefusedError(
      `the cutover is ${ageHours.toFixed(1)} h old; old indices are kept at least ${ctx.opts.minAgeHours} h (${candidates.join(', ')})`,
      'wait, or lower --min-age-hours deliberately',
      { details: { ageHours, minAgeHours: ctx.opts.minAgeHours, indices: candidates } },
    );
  if (!ctx.opts.yes) {
    ctx.print(
      `Would delete ${candidates.join(', ')} (cutover ${ageHours.toFixed(1)} h ago). Rerun with --yes to delete.`,
    );
    throw new MigrationRefusedError('cleanup needs confirmation: nothing was deleted', 'rerun with --yes', {
      category: 'usage',
    });
  }
  for (const i of candidates) await os.deleteIndex(i);
  facts.deleted = [...(facts.deleted ?? []), ...candidates];
  ctx.print(`Deleted ${candidates.join(', ')}; the source Chroma store was not touched`);
  return { deleted: candidates };
}
