import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: two files at a time keeps the dev server and the workers from starving each other.
    maxWorkers: 2,
    projects: [
      {
        // Pure code (the method, metrics, prompts, simulated agents, the estimator): no servers, seconds.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        test: {
          name: 'integration',
          // Real servers: one Temporal dev server and one PostgreSQL for the run, started in globalSetup.
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/setup.ts'],
          include: ['test/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
