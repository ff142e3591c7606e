import { defineConfig } from 'vitest/config';

/**
 * Tests whose fixtures or code read "now" (core/clock.ts). Besides their normal run they run again
 * with the clock a year ahead and a year back, so the suite is proven to pass on any date.
 */
const DATE_SENSITIVE = [
  'core/clock.test.ts',
  'test/integration/streaming.scanner.test.ts',
  'test/integration/streaming.e2e.test.ts',
  'test/integration/streaming.feed.test.ts',
];

const integration = {
  globalSetup: ['./test/services/global-setup.ts'],
  // Cold provisioning (first run on a fresh machine) downloads hundreds of MB.
  hookTimeout: 30 * 60_000,
  testTimeout: 10 * 60_000,
  // Heavy JVM services on 2 cores: keep integration files from starving each other.
  maxWorkers: 2,
  fileParallelism: true,
};

/**
 * Projects: fast unit tests next to the code, integration tests under test/integration that talk
 * to real servers started by the shared harness (test/services), then the date-sensitive files on
 * shifted clocks. All run under `npm test`.
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
          ...integration,
        },
      },
      ...(['+365d', '-365d'] as const).map((shift) => ({
        test: {
          name: `clock${shift === '+365d' ? '+1y' : '-1y'}`,
          sequence: { groupOrder: 2 },
          include: DATE_SENSITIVE,
          env: { DEALFINDER_NOW: shift },
          ...integration,
        },
      })),
    ],
  },
});
