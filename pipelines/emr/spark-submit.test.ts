import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { Lake } from '../../core/lake.ts';
import {
  driverSubmitArgs,
  SPARK_SESSION_CONF,
  sparkPlanOf,
  sparkSettings,
} from '../../jobs/engines/spark/index.ts';
import { planJob } from '../../jobs/plan.ts';
import { jobByName } from '../../jobs/registry.ts';
import { runJobFlowInput, stepConfigs } from './requests.ts';
import { emrStepArgs, toLocalSparkArgs } from './spark-submit.ts';

const runner = 's3://b/p/artifacts/aaa/runner.py';
const plans = 's3://b/p/artifacts/bbb/plans.json';

describe('emrStepArgs', () => {
  it('is deterministic, sorted confs, runner then its flags', () => {
    const args = emrStepArgs({
      runner,
      plans,
      job: 'cleanup',
      deployMode: 'cluster',
      conf: { 'spark.z': '1', 'spark.a': '2' },
    });
    expect(args.slice(0, 5)).toEqual([
      'spark-submit',
      '--deploy-mode',
      'cluster',
      '--name',
      'deal-finder:cleanup',
    ]);
    const confs = args.filter((_, i) => args[i - 1] === '--conf');
    expect(confs).toEqual([...confs].sort());
    expect(confs).toContain('spark.sql.sources.partitionOverwriteMode=dynamic');
    expect(confs).toContain('spark.z=1');
    expect(args.slice(-5)).toEqual([runner, '--plans', plans, '--job', 'cleanup']);
    expect(
      emrStepArgs({
        runner,
        plans,
        job: 'cleanup',
        deployMode: 'cluster',
        conf: { 'spark.a': '2', 'spark.z': '1' },
      }),
    ).toEqual(args);
  });

  it('maps to local Spark: s3 URIs → files, client mode, YARN confs dropped, everything else verbatim', () => {
    const emrArgs = emrStepArgs({ runner, plans, job: 'features', deployMode: 'cluster' });
    const local = toLocalSparkArgs(emrArgs, { [runner]: '/x/runner.py', [plans]: '/x/plans.json' });
    expect(local.slice(0, 4)).toEqual(['--master', 'local[2]', '--deploy-mode', 'client']);
    expect(local).not.toContain('spark.yarn.maxAppAttempts=1');
    expect(local.slice(-5)).toEqual(['/x/runner.py', '--plans', '/x/plans.json', '--job', 'features']);
    expect(local.some((a) => a.startsWith('s3://'))).toBe(false);
    expect(() => toLocalSparkArgs(emrArgs, { [runner]: '/x/runner.py' })).toThrow(
      /no local file given for s3:\/\/b\/p\/artifacts\/bbb/,
    );
  });
});

describe('Spark settings, defined once', () => {
  it('the local driver, an EMR step and every plan carry the same session settings', () => {
    const config = loadConfig({ env: {}, cwd: '/tmp' });
    const confsOf = (args: string[]) =>
      Object.fromEntries(
        args
          .filter((_, i) => args[i - 1] === '--conf')
          .map((c) => c.split(/=(.*)/s).slice(0, 2) as [string, string]),
      );
    const local = confsOf(driverSubmitArgs(sparkSettings(config, {}), '/tmp/w', '127.0.0.1:1'));
    const emr = confsOf(emrStepArgs({ runner, plans, job: 'cleanup', deployMode: 'cluster' }));
    const plan = sparkPlanOf(
      planJob(jobByName('cleanup'), {
        lake: new Lake('/tmp/none'),
        config,
        runId: 'r',
        runDate: '2026-01-02',
      }),
    );
    expect(Object.keys(SPARK_SESSION_CONF)).toContain('spark.sql.timestampType');
    for (const [k, v] of Object.entries(SPARK_SESSION_CONF)) {
      expect(local[k], k).toBe(v);
      expect(emr[k], k).toBe(v);
      expect(plan.spark.conf[k], k).toBe(v);
    }
    // Each launch adds only its own: YARN attempts on EMR, loopback and no UI locally.
    expect(emr['spark.yarn.maxAppAttempts']).toBe('1');
    expect(local['spark.yarn.maxAppAttempts']).toBeUndefined();
    expect(local['spark.driver.bindAddress']).toBe('127.0.0.1');
    expect(emr['spark.driver.bindAddress']).toBeUndefined();
  });
});

describe('EMR request inputs', () => {
  const config = loadConfig({ env: {}, overrides: { aws: { bucket: 'lake-bkt', prefix: 'df' } } });
  const spec = {
    runId: 'run-1',
    date: '2026-01-02',
    jobs: ['cleanup', 'enrichment'],
    runnerUri: runner,
    plansUri: plans,
  };

  it('transient cluster: fleets (On-Demand master/core, Spot task), auto-termination, steps in order', () => {
    const input = runJobFlowInput(config, spec);
    expect(input.ReleaseLabel).toBe('emr-7.5.0');
    expect(input.LogUri).toBe('s3://lake-bkt/df/emr-logs/');
    expect(input.Instances?.KeepJobFlowAliveWhenNoSteps).toBe(false);
    expect(input.AutoTerminationPolicy).toEqual({ IdleTimeout: 900 });
    const fleets = input.Instances?.InstanceFleets ?? [];
    expect(
      fleets.map((f) => [f.InstanceFleetType, f.TargetOnDemandCapacity ?? 0, f.TargetSpotCapacity ?? 0]),
    ).toEqual([
      ['MASTER', 1, 0],
      ['CORE', 2, 0],
      ['TASK', 0, 4],
    ]);
    expect(fleets[2]?.LaunchSpecifications?.SpotSpecification?.TimeoutAction).toBe('SWITCH_TO_ON_DEMAND');
    expect(input.Steps?.map((s) => [s.Name, s.ActionOnFailure, s.HadoopJarStep?.Jar])).toEqual([
      ['cleanup [run-1]', 'TERMINATE_CLUSTER', 'command-runner.jar'],
      ['enrichment [run-1]', 'TERMINATE_CLUSTER', 'command-runner.jar'],
    ]);
    expect(input.Steps?.[1]?.HadoopJarStep?.Args).toEqual(
      emrStepArgs({ runner, plans, job: 'enrichment', deployMode: 'client', conf: {} }),
    );
  });

  it('no task fleet when Spot capacity is 0; shared cluster steps CANCEL_AND_WAIT', () => {
    const noSpot = loadConfig({ env: {}, overrides: { emr: { taskSpotCapacity: 0 } } });
    expect(runJobFlowInput(noSpot, spec).Instances?.InstanceFleets?.map((f) => f.InstanceFleetType)).toEqual([
      'MASTER',
      'CORE',
    ]);
    expect(stepConfigs(config, spec, false).map((s) => s.ActionOnFailure)).toEqual([
      'CANCEL_AND_WAIT',
      'CANCEL_AND_WAIT',
    ]);
  });
});
