import { defineConfig } from 'vitest/config';

// Tests talk to a real PostgreSQL and a real Temporal dev server, both started (when not
// already running) by test/global-setup.ts; each test file gets its own databases.
export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-runtime.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
