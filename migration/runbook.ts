/** Runs phases with state bookkeeping; `run` goes through them and stops at the first failed gate. */
import { DealFinderError, UsageError } from '../core/errors.ts';
import { assess } from './assess.ts';
import type { PhaseContext } from './context.ts';
import { exportPhase } from './export.ts';
import { loadPhase } from './load.ts';
import { setupTarget } from './setup.ts';
import { type Phase, RUN_PHASES } from './state.ts';
import { cleanupPhase, cutoverPhase, rollbackPhase } from './switch.ts';
import { transformPhase } from './transform.ts';
import { shadowPhase, verifyPhase } from './verify.ts';

const IMPL: Record<Phase, (ctx: PhaseContext) => Promise<Record<string, unknown>>> = {
  assess: async (ctx) => ({ ...(await assess(ctx)) }),
  'setup-target': setupTarget,
  export: exportPhase,
  transform: transformPhase,
  load: loadPhase,
  verify: verifyPhase,
  shadow: shadowPhase,
  cutover: cutoverPhase,
  rollback: rollbackPhase,
  cleanup: cleanupPhase,
};

/**
 * Phases whose "done" is final for `run`: every run phase before the switch (rerunning them alone
 * is always allowed); cutover is re-checked on every run.
 */
const SKIP_WHEN_DONE: ReadonlySet<Phase> = new Set(RUN_PHASES.filter((p) => p !== 'cutover'));

export async function runPhase(ctx: PhaseContext, phase: Phase): Promise<Record<string, unknown>> {
  await ctx.store.lock();
  ctx.print(`== ${phase} ==`);
  ctx.store.begin(phase);
  try {
    const summary = await IMPL[phase](ctx);
    ctx.store.finish(phase, summary);
    return summary;
  } catch (error) {
    const details = error instanceof DealFinderError ? error.details : undefined;
    ctx.store.fail(phase, error, details);
    throw error;
  }
}

/** All phases from assess to cutover (or `until`); phases already done are skipped. */
export async function runAll(ctx: PhaseContext, until: Phase = 'cutover'): Promise<Phase[]> {
  const ran: Phase[] = [];
  const last = RUN_PHASES.indexOf(until);
  if (last < 0) throw new UsageError(`--until must be one of ${RUN_PHASES.join(', ')}`);
  for (const phase of RUN_PHASES.slice(0, last + 1)) {
    if (!ctx.opts.force && SKIP_WHEN_DONE.has(phase) && ctx.store.isDone(phase)) {
      ctx.print(`== ${phase} == already done (${ctx.store.phase(phase)?.endedAt})`);
      continue;
    }
    if (phase === 'cutover' && ctx.store.isDone('cutover') && !ctx.store.state.facts.rolledBackAt) {
      ctx.print('== cutover == already done');
      continue;
    }
    await runPhase(ctx, phase);
    ran.push(phase);
  }
  return ran;
}
