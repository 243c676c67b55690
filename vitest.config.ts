import { defineConfig } from 'vitest/config';

// One embedded PostgreSQL per run (test/global-setup.ts); each test file gets a fresh database from a migrated template.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
