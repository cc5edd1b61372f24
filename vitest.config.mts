import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real servers: one Temporal dev server and one PostgreSQL for the run, started in globalSetup.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    // Two cores: two files at a time keeps the dev server and the workers from starving each other.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    include: ['test/**/*.test.ts'],
  },
});
