import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { Lake } from '../../core/lake.ts';
import { sparkPlanOf } from '../../jobs/engines/spark/index.ts';
import { planJob } from '../../jobs/plan.ts';
import { JOBS, jobByName } from '../../jobs/registry.ts';
import { emrPlanOf, emrPlansOf } from './plans.ts';

const config = loadConfig({
  env: {},
  overrides: { lake: { root: 's3://bkt/lake' }, aws: { bucket: 'bkt' } },
});
const ctx = { config, runId: 'r1', date: '2026-11-22' };

describe('EMR plans (inputs resolved by the runner at run time)', () => {
  it('names partition folders instead of files, one per day of the window', () => {
    const plan = emrPlanOf(jobByName('price_trends'), ctx);
    const [enriched, daily, prev] = plan.inputs;
    expect(enriched?.locations).toEqual(['s3://bkt/lake/enriched_deals/dt=2026-11-22/']);
    expect(daily?.files).toEqual([]);
    expect(daily?.locations).toHaveLength(89);
    expect(daily?.locations[0]).toBe('s3://bkt/lake/price_daily/dt=2026-08-25/');
    expect(daily?.locations.at(-1)).toBe('s3://bkt/lake/price_daily/dt=2026-11-21/');
    expect(prev?.locations).toEqual(['s3://bkt/lake/price_trends/dt=2026-11-21/']);
    const enrichment = emrPlanOf(jobByName('enrichment'), ctx);
    expect(enrichment.inputs.map((i) => i.locations)).toEqual([
      ['s3://bkt/lake/deals/dt=2026-11-22/'],
      ['s3://bkt/lake/catalog/products/'],
    ]);
  });

  it('writes outputs in place and keeps everything else of planJob/sparkPlanOf', () => {
    const plan = emrPlanOf(jobByName('cleanup'), ctx);
    expect(plan.outputs.map((o) => [o.stagingDir, o.finalDir])).toEqual([
      ['s3://bkt/lake/deals/dt=2026-11-22', 's3://bkt/lake/deals/dt=2026-11-22'],
      [
        's3://bkt/lake/quarantine/dt=2026-11-22/step=cleanup',
        's3://bkt/lake/quarantine/dt=2026-11-22/step=cleanup',
      ],
    ]);
    const base = sparkPlanOf(
      planJob(jobByName('cleanup'), {
        lake: new Lake('s3://bkt/lake'),
        config,
        runId: 'r1',
        runDate: '2026-11-22',
      }),
    );
    expect(plan.spark).toEqual(base.spark);
    expect(plan.params).toEqual(base.params);
    expect(plan.statements).toEqual(base.statements);
    expect(plan.outputs.map((o) => o.projection)).toEqual(base.outputs.map((o) => o.projection));
    expect(plan.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(plan.fingerprint).not.toBe(
      emrPlanOf(jobByName('cleanup'), { ...ctx, date: '2026-11-21' }).fingerprint,
    );
  });

  it('plans the whole night up front, in dependency order, as JSON', () => {
    const plans = emrPlansOf(JOBS, ctx);
    expect(plans.map((p) => p.job)).toEqual(['cleanup', 'enrichment', 'price_trends', 'features']);
    expect(JSON.parse(JSON.stringify(plans))).toEqual(plans);
  });
});
