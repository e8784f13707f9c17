// rate-limiter-flexible's RateLimiterDrizzle imports drizzle-orm by a name made at run time, to hide it
// from bundlers. From the bundle, Node would then load a second drizzle-orm from node_modules at the
// first rate-limited request, with the slow package.json reads the bundle is there to avoid. This makes
// the import name the bundled drizzle-orm; remove it once the library imports drizzle-orm by a literal
// name or takes the operators as an option. bundle.test.ts fails if the rewrite stops working.
import { readFile } from 'node:fs/promises';
import type * as esbuild from 'esbuild';

const HIDDEN = 'await import(/* @vite-ignore */ specifier)';
const NAMED = "await (specifier === 'drizzle-orm' ? import('drizzle-orm') : specifier === 'drizzle-orm/sql' ? import('drizzle-orm/sql') : import(specifier))";

export const rateLimiterDrizzleImport: esbuild.Plugin = {
  name: 'rate-limiter-drizzle-import',
  setup(build) {
    build.onLoad({ filter: /[\\/]rate-limiter-flexible[\\/]lib[\\/]RateLimiterDrizzle\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      if (!source.includes(HIDDEN)) throw new Error(`${path} no longer imports drizzle-orm as server/build/rate-limiter-drizzle.ts expects: check it`);
      return { contents: source.replace(HIDDEN, NAMED), loader: 'js' };
    });
  },
};
