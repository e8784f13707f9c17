// client/src is written for a build (its imports name the .js files tsc emits). The harness runs
// it from source, so relative .js imports inside client/src resolve to the .ts beside them.
import { registerHooks } from 'node:module';

const CLIENT_SRC = new URL('../../client/src/', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (context.parentURL?.startsWith(CLIENT_SRC) && specifier.startsWith('.') && specifier.endsWith('.js')) {
      return nextResolve(specifier.slice(0, -3) + '.ts', context);
    }
    return nextResolve(specifier, context);
  },
});
