/** Phase 2: the versioned target index behind the alias, with bulk-load settings. */
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
  // Readers of the alias query with vectors of the dimension it serves now: a cutover to another
  // dimension would break every one of them, so refuse before anything is created.
  for (const idx of current) {
    const f = vectorFieldOf(await os.mapping(idx));
    if (f.dimension !== null && f.dimension !== dimension)
      throw refuse(
        `dimension mismatch: the alias ${alias} serves ${idx} with ${f.dimension}-dimensional vectors, the source has ${dimension}`,
        `readers of ${alias} query with ${f.dimension}-dim vectors: migrate a re-embedded store under a new --alias and switch the readers, or re-embed to ${f.dimension}; nothing was written`,
        { alias, index: idx, aliasDimension: f.dimension, sourceDimension: dimension },
        'migration-dimension-mismatch',
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
    m: params.target.hnsw?.m ?? facts.hnsw?.m ?? 16,
    efConstruction: params.target.hnsw?.efConstruction ?? facts.hnsw?.efConstruction ?? 100,
    derivedSource: (params.target.bulkFormat ?? 'json') !== 'smile',
  });
  const method = ((
    body.mappings as { properties: Record<string, { method?: { parameters?: Record<string, number> } }> }
  ).properties.embedding?.method?.parameters ?? {}) as { m?: number; ef_construction?: number };
  let created = false;
  if (await os.exists(index)) {
    const f = vectorFieldOf(await os.mapping(index));
    if (f.dimension !== dimension || f.engine !== params.target.engine || f.spaceType !== SPACE_TYPES[space])
      throw refuse(
        `index ${index} exists with dimension ${f.dimension}, engine ${f.engine}, space ${f.spaceType}; expected ${dimension}, ${params.target.engine}, ${SPACE_TYPES[space]}`,
        `delete ${index} if it is a leftover, or use another --alias`,
        { index, found: f },
        f.dimension !== dimension ? 'migration-dimension-mismatch' : 'migration-refused',
      );
    ctx.print(`Index ${index} already exists with the right mapping: kept`);
  } else {
    await os.request('PUT', `/${encodeURIComponent(index)}`, body);
    created = true;
    ctx.print(
      `Created index ${index}: knn_vector dimension ${dimension}, engine ${params.target.engine}, space_type ${SPACE_TYPES[space]}, hnsw m=${method.m} ef_construction=${method.ef_construction}, ${params.target.shards} shard(s); refresh off and 0 replicas during the load`,
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
    hnsw: { m: method.m, efConstruction: method.ef_construction },
    bulkFormat: params.target.bulkFormat ?? 'json',
  };
}
