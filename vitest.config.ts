import { defineConfig } from 'vitest/config';

/**
 * Two projects: fast unit tests next to the code, and integration tests under
 * test/integration that talk to real servers started by the shared harness
 * (test/services). Both run under `npm test`.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          // Fast tests first; the integration group starts the heavy JVM services afterwards.
          sequence: { groupOrder: 0 },
          include: [
            '{schemas,jobs,pipelines,migration,streaming,infra,notebooks,core,cli,samples,bench,test/unit,test/e2e}/**/*.test.ts',
          ],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['./test/services/global-setup.ts'],
          // Cold provisioning (first run on a fresh machine) downloads hundreds of MB.
          hookTimeout: 30 * 60_000,
          testTimeout: 10 * 60_000,
          // Heavy JVM services on 2 cores: keep integration files from starving each other.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
    ],
  },
});
