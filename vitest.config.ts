import { configDefaults, defineConfig } from 'vitest/config';

/** Integration tests that time the tool against an independent measurement. */
const TIMED = ['test/integration/blocking-truth.test.ts'];

export default defineConfig({
  test: {
    // Under CI a JSON report too, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/test-results.json' }]] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Property tests run thousands of cases: generous on a loaded machine, still bounded.
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...TIMED],
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Compares what the tool measured with what its own application loops waited, to ±30 %:
        // run after the rest, alone, so another test file's load does not skew one side (a full
        // suite once made the loops' waits 3.4 s where the probes saw 0.9 s).
        test: {
          name: 'timed',
          include: TIMED,
          globalSetup: ['test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
