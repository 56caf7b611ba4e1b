import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // A stray .only would run one test and leave the rest out: refused, on every machine, not only in CI.
    allowOnly: false,
    hookTimeout: 60_000,
    // Two cores: integration suites share one Redis and one emulator, each test with its own prefix.
    maxWorkers: 2,
  },
});
