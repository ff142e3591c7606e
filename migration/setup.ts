/** Phase 2: the versioned target index behind the alias, with bulk-load settings. */
import { DealFinderError } from '../core/errors.ts';
import { type PhaseContext, requireDone, targetOf } from './context.ts';
import { indexBody, refuse, SPACE_TYPES, vectorFieldOf } from './target.ts';

export async function setupTarget(ctx: PhaseContext): Promise<Record<string, unknown>> {
  requireDone(ctx, 'assess', 'setup-target');
  const { params, facts } = ctx.store.state;
  const os = targetOf(ctx);
  const alias = params.target.alias;
  const dimension = facts.dimension as number;
  const space = facts.space ?? 'l2';
  if (await os.isConcreteIndex(alias))
    throw refuse(
      `"${alias}" is an index, not an alias: an alias swap cannot replace it`,
      'reindex it into a versioned index and put the alias on that first, or pick another --alias',
    );
  const current = await os.aliasTargets(alias);
  for (const idx of current) {
    const f = vectorFieldOf(await os.mapping(idx));
    if (f.dimension !== null && f.dimension !== dimension)
      ctx.print(
        `  note: the alias ${alias} now points at ${idx} with dimension ${f.dimension} (new: ${dimension})`,
      );
  }
  if (!facts.index) {
    const r = await os.request<{ index: string }[]>(
      'GET',
      `/_cat/indices/${encodeURIComponent(`${alias}-v*`)}?format=json&h=index`,
      undefined,
      {
        allow404: true,
      },
    );
    const taken = (Array.isArray(r.body) ? r.body : []).map((x) =>
      Number(/-v(\d+)$/.exec(x.index)?.[1] ?? 0),
    );
    facts.index = `${alias}-v${Math.max(0, ...taken) + 1}`;
    ctx.store.save();
  }
  const index = facts.index;
  const body = indexBody({
    dimension,
    space,
    engine: params.target.engine,
    shards: params.target.shards,
    m: facts.hnsw?.m ?? 16,
    efConstruction: facts.hnsw?.efConstruction ?? 100,
  });
  let created = false;
  if (await os.exists(index)) {
    const f = vectorFieldOf(await os.mapping(index));
    if (f.dimension !== dimension || f.engine !== params.target.engine || f.spaceType !== SPACE_TYPES[space])
      throw new DealFinderError(
        'migration-refused',
        `index ${index} exists with dimension ${f.dimension}, engine ${f.engine}, space ${f.spaceType}; expected ${dimension}, ${params.target.engine}, ${SPACE_TYPES[space]}`,
        { hint: `delete ${index} if it is a leftover, or use another --alias`, exitCode: 4 },
      );
    ctx.print(`Index ${index} already exists with the right mapping: kept`);
  } else {
    await os.request('PUT', `/${encodeURIComponent(index)}`, body);
    created = true;
    ctx.print(
      `Created index ${index}: knn_vector dimension ${dimension}, engine ${params.target.engine}, space_type ${SPACE_TYPES[space]}, ${params.target.shards} shard(s); refresh off and 0 replicas during the load`,
    );
  }
  await os.health(index, 'yellow', 60);
  ctx.print(`Alias ${alias} → ${current.length ? current.join(', ') : '(none yet)'}; it moves at cutover`);
  return {
    index,
    created,
    alias,
    aliasTargets: current,
    dimension,
    spaceType: SPACE_TYPES[space],
    engine: params.target.engine,
  };
}
