/**
 * Public surface of the real-services harness for integration tests.
 *
 *   import { servicesFor } from '../services/index.js';
 *
 *   const svc = await servicesFor('kafka');          // top-level await: checks prerequisites
 *   svc.describe('kafka smoke', () => {              // starts kafka in beforeAll (once per run, shared)
 *     it('round trip', async () => {
 *       const brokers = svc.env.KAFKA_BROKERS.split(',');
 *       …
 *     });
 *   });
 *
 * Skip/fail rule:
 *  - a missing prerequisite (checkPrerequisites() gave a reason) SKIPS the suite
 *    with a loud `SKIP <service>: <reason>` warning — unless CI=true, where it FAILS;
 *  - a provision or start failure always FAILS the suite, with the service log tail.
 *
 * Lower level: `useServices(...names)` inside your own beforeAll (no skipping:
 * missing prerequisites throw).
 */
import { beforeAll, describe } from 'vitest';
import { isCI, ServicePrerequisiteError, up } from './harness.js';
import { loadService } from './registry.js';
import type { ServiceName } from './types.js';

export { ServicePrerequisiteError, ServiceStartError } from './harness.js';
export type { ServiceName } from './types.js';

const started = new Map<ServiceName, Promise<Record<string, string>>>();

/**
 * Starts (or reuses) the named services and resolves with their merged env,
 * e.g. { KAFKA_BROKERS: '127.0.0.1:40123' }. The same keys are also set on
 * process.env of the calling test worker. Call it from beforeAll.
 *
 * One instance per service for the whole test run, shared across files and
 * workers (state file + cross-process lock); stopped by the integration
 * project's global teardown. Throws ServicePrerequisiteError when the machine
 * lacks something, ServiceStartError (message ends with the log tail) when
 * provisioning or starting fails.
 */
export async function useServices(...names: ServiceName[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of names) {
    let pending = started.get(name);
    if (!pending) {
      pending = up([name]);
      started.set(name, pending);
    }
    Object.assign(env, await pending);
  }
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
  return env;
}

export interface ServicesHandle {
  readonly names: readonly ServiceName[];
  /**
   * Merged connection env of the declared services. Filled by the beforeAll
   * that `describe` registers: read it inside tests and hooks, not at collection.
   */
  readonly env: Readonly<Record<string, string>>;
  /** `"<service>: <reason>"` when the suite is skipped on this machine, else null. */
  readonly skipReason: string | null;
  /**
   * A vitest `describe` whose beforeAll starts the services (or that is skipped
   * with the reason in its title when a prerequisite is missing outside CI).
   */
  describe(title: string, body: () => void): void;
}

/**
 * Declares which services a test file needs. Await it at the top level of the
 * file: it loads the definitions and runs their prerequisite checks (fast; no
 * download, no start). Starting happens later, in the beforeAll of
 * `handle.describe`.
 */
export async function servicesFor(...names: ServiceName[]): Promise<ServicesHandle> {
  const ci = isCI();
  let missing: ServicePrerequisiteError | null = null;
  for (const name of names) {
    const def = await loadService(name); // a missing/broken definition file is a bug: it throws
    const reason = await def.checkPrerequisites();
    if (reason) {
      missing = new ServicePrerequisiteError(name, reason);
      break;
    }
  }
  const skipReason = missing && !ci ? `${missing.service}: ${missing.reason}` : null;
  if (missing && skipReason) {
    console.warn(
      `\n*** SKIP ${missing.service}: ${missing.reason}\n` +
        `*** tests needing [${names.join(', ')}] are skipped on this machine (under CI=true this is a failure)\n`,
    );
  }

  let env: Record<string, string> | null = null;
  return {
    names,
    skipReason,
    get env(): Readonly<Record<string, string>> {
      if (!env) {
        throw new Error(
          `services [${names.join(', ')}] are not started yet: read env inside tests/hooks of svc.describe()`,
        );
      }
      return env;
    },
    describe(title: string, body: () => void): void {
      if (skipReason) {
        describe.skip(`${title} [SKIP ${skipReason}]`, body);
        return;
      }
      describe(title, () => {
        beforeAll(async () => {
          if (missing) {
            // Only reached under CI=true: a missing prerequisite fails the run.
            throw new Error(`${missing.message} (CI=true: missing prerequisites fail instead of skipping)`);
          }
          env = await useServices(...names);
        });
        body();
      });
    },
  };
}
