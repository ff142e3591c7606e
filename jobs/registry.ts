import { UnknownJobError } from '../core/errors.ts';
import type { JobDef } from './job.ts';

/** The nightly jobs, in dependency order. */
export const JOBS: readonly JobDef[] = [
  {
    name: 'cleanup',
    description: 'Parse, validate, normalize and deduplicate raw deals; quarantine invalid ones.',
    kind: 'row',
    dependsOn: [],
    inputs: [
      { view: 'raw_deals', table: 'raw_deals', days: { from: 0, to: 0 }, provenance: true },
      { view: 'deals_prev', table: 'deals', days: { from: -1, to: -1 } },
    ],
    outputs: [
      { statement: 'deals', table: 'deals' },
      { statement: 'quarantine', table: 'quarantine', subpartition: 'cleanup' },
    ],
    primaryOutput: 'deals',
    params: ['max_plausible_price', 'dedupe_window_hours', 'price_drop_pct', 'price_drop_usd'],
    sqlFile: 'cleanup.sql',
  },
  {
    name: 'enrichment',
    description: 'Join deals to the product catalog with a match confidence; fill the category.',
    kind: 'row',
    dependsOn: ['cleanup'],
    inputs: [
      { view: 'deals', table: 'deals', days: { from: 0, to: 0 } },
      { view: 'products', table: 'products' },
    ],
    outputs: [{ statement: 'enriched_deals', table: 'enriched_deals' }],
    primaryOutput: 'enriched_deals',
    params: [],
    sqlFile: 'enrichment.sql',
  },
  {
    name: 'price_trends',
    description:
      'Per product and category daily price aggregates, rolled up into 7/30/90-day statistics, all-time low and trend slope.',
    kind: 'aggregate',
    dependsOn: ['enrichment'],
    // Today's deals only: the 89 days before come as their daily aggregates (one row per key and day).
    inputs: [
      { view: 'enriched_deals', table: 'enriched_deals', days: { from: 0, to: 0 } },
      { view: 'daily_hist', table: 'price_daily', days: { from: -89, to: -1 } },
      { view: 'trends_prev', table: 'price_trends', days: { from: -1, to: -1 } },
    ],
    outputs: [
      { statement: 'price_trends', table: 'price_trends' },
      { statement: 'price_daily', table: 'price_daily' },
    ],
    primaryOutput: 'price_trends',
    params: [],
    sqlFile: 'price_trends.sql',
  },
  {
    name: 'features',
    description: 'Training table for the pricing model (point-in-time trend features from the previous day).',
    kind: 'row',
    dependsOn: ['enrichment', 'price_trends'],
    inputs: [
      { view: 'enriched_deals', table: 'enriched_deals', days: { from: 0, to: 0 } },
      { view: 'trends_prev', table: 'price_trends', days: { from: -1, to: -1 } },
    ],
    outputs: [{ statement: 'features', table: 'features' }],
    primaryOutput: 'features',
    params: ['min_match_confidence'],
    sqlFile: 'features.sql',
  },
];

/** The job of that name; an unknown name is the user's mistake (a usage error, exit 2). */
export function jobByName(name: string): JobDef {
  const job = JOBS.find((j) => j.name === name);
  if (!job) throw unknownJobs([name]);
  return job;
}

function unknownJobs(names: readonly string[]): UnknownJobError {
  return new UnknownJobError(
    names.join(', '),
    JOBS.map((j) => j.name),
  );
}

/**
 * The jobs a run executes, in dependency order: all of them, or exactly those named in `only`
 * (an unknown name is a usage error on every engine, never a run that silently does nothing).
 */
export function selectJobs(only?: readonly string[]): JobDef[] {
  if (!only) return topologicalOrder(JOBS);
  const unknown = only.filter((n) => !JOBS.some((j) => j.name === n));
  if (unknown.length > 0) throw unknownJobs(unknown);
  return topologicalOrder(JOBS.filter((j) => only.includes(j.name)));
}

/** Jobs in an order that respects dependsOn (stable: registry order breaks ties). */
export function topologicalOrder(jobs: readonly JobDef[] = JOBS): JobDef[] {
  const done = new Set<string>();
  const out: JobDef[] = [];
  const pending = [...jobs];
  for (let guard = 0; pending.length > 0; guard++) {
    if (guard > jobs.length * jobs.length + 1) throw new Error('job dependencies form a cycle');
    const idx = pending.findIndex((j) =>
      j.dependsOn.every((d) => done.has(d) || !jobs.some((x) => x.name === d)),
    );
    if (idx < 0) throw new Error('job dependencies form a cycle');
    const [job] = pending.splice(idx, 1);
    out.push(job!);
    done.add(job!.name);
  }
  return out;
}
