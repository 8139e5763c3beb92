import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and examples import the package by its public name, as users do.
    alias: [
      { find: /^troupe\/testing$/, replacement: here('./src/testing.ts') },
      { find: /^troupe\/store$/, replacement: here('./src/stores.ts') },
      { find: /^troupe\/workers$/, replacement: here('./src/workers.ts') },
      { find: /^troupe\/redis$/, replacement: here('./src/redis.ts') },
      { find: /^troupe\/dashboard$/, replacement: here('./src/dashboard/index.ts') },
      { find: /^troupe$/, replacement: here('./src/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/build-once.ts'],
    // Sized for a shared, loaded 2-core machine: many tests start processes, Redis servers or a
    // browser of their own, so two test files at a time, and limits that only catch a hang.
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
