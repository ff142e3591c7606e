/**
 * vitest globalSetup of the `integration` project.
 *
 * setup:    gives this run an id (DEALFINDER_RUN_ID / DEALFINDER_RUN_PID, inherited
 *           by the test workers, recorded as owner of what they start) and reaps
 *           what crashed earlier runs left behind (processes of dead runs, half
 *           started or unhealthy instances, marked orphans).
 * teardown: stops every service this run started. With DEALFINDER_KEEP_SERVICES=1
 *           they stay up for the next run (owner becomes 'kept'). Services that
 *           were already running (`npm run services -- up`, or kept) are never
 *           stopped here.
 *
 * Nothing is started here: each test file starts only what it declares.
 */
import { randomUUID } from 'node:crypto';
import { reapStale, releaseRun } from './harness.js';
import { processRef } from './process.js';

const print = (line: string) => {
  process.stderr.write(`${line}\n`);
};

export default async function setup(): Promise<() => Promise<void>> {
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 6)}`;
  process.env.DEALFINDER_RUN_ID = runId;
  process.env.DEALFINDER_RUN_PID = String(process.pid);
  const startTime = processRef(process.pid).startTime;
  if (startTime) process.env.DEALFINDER_RUN_PID_START = startTime;

  const reaped = await reapStale({ print });
  if (reaped.length > 0) print(`[services] reaped stale instance(s) of: ${reaped.join(', ')}`);

  return async () => {
    const keep = process.env.DEALFINDER_KEEP_SERVICES === '1';
    const stopped = await releaseRun(runId, keep, { print });
    if (stopped.length > 0) print(`[services] stopped: ${stopped.join(', ')}`);
  };
}
