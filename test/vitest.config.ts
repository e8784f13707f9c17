import { defineConfig } from 'vitest/config';

const client = (path: string) => new URL(`../client/src/${path}`, import.meta.url).pathname;

export default defineConfig({
  // The example service imports the client package; the suite runs its sources, not a build.
  resolve: {
    alias: [
      { find: /^@gatehouse\/client\/middleware$/, replacement: client('middleware/index.ts') },
      { find: /^@gatehouse\/client\/verifier$/, replacement: client('verifier/index.ts') },
    ],
  },
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
