import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    // Captures every service log of the run and, at the end, fails it if any secret leaked.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file shares one migrated database; files run in parallel on separate databases.
    pool: 'forks',
  },
});
