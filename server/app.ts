// Koa composition: the shared edge (request ids and logs, headers, errors, body limit, query
// check), then one branch per path prefix: /trpc (CORS, tRPC), /oidc (token limit, JWKS,
// provider), /interaction (login pages), /api (CORS, REST); health and metrics otherwise. Each
// piece lives in server/http/, server/oidc/ or server/rest/.
import Koa, { type Middleware } from 'koa';
import compose from 'koa-compose';
import mount from 'koa-mount';
import type { Deps } from './deps.ts';
import { MAX_BODY_BYTES } from './http/body-limit.ts';
import { cors } from './http/cors.ts';
import { edge } from './http/edge.ts';
import { health, type AppState } from './http/health.ts';
import { providerEndpoint } from './http/provider.ts';
import { routeNamer } from './http/route-name.ts';
import { trpcEndpoint } from './http/trpc.ts';
import { createInteractionRoutes } from './oidc/interactions.ts';
import { createRestApi } from './rest/handler.ts';
import { createHttpContext } from './trpc/context.ts';
import { appRouter } from './trpc/router.ts';

export { MAX_BODY_BYTES } from './http/body-limit.ts';
export type { AppState };

const OIDC = '/oidc';

export function createApp(deps: Deps, state: AppState = { draining: false }): Koa {
  const { config, log, metrics, provider, database } = deps;
  // The provider signs its cookies with these keys; the Koa app must use the same ones.
  const app = new Koa({ keys: deps.keys.cookieSecrets, proxy: config.trustProxy });
  app.silent = true;
  const procedures = new Set(Object.keys(appRouter._def.procedures));

  app.use(edge({ log, metrics, routeOf: routeNamer(procedures), https: new URL(config.publicUrl).protocol === 'https:', providerPrefix: OIDC }));
  // Past the shared edge above, a request goes down the one branch its first path segment names,
  // so a token request never passes through the API's middleware, nor an API call through the
  // provider's.
  const crossOrigin = cors({ origins: config.corsOrigins });
  const rest = createRestApi({
    router: appRouter,
    baseUrl: `${config.publicUrl}/api`,
    maxBodySize: MAX_BODY_BYTES,
    log,
    createContext: (ctx) => createHttpContext(deps, ctx),
  });
  app.use(
    branches(
      {
        '/trpc': [crossOrigin, trpcEndpoint(deps)],
        [OIDC]: [providerEndpoint({ provider, prefix: OIDC, tokenLimit: deps.rateLimits.token, published: deps.published })],
        '/interaction': [createInteractionRoutes({ provider, auth: deps.auth, rateLimits: deps.rateLimits, config, log, secret: deps.keys.cookieSecrets[0]! })],
        // The REST mirror of the procedures, with its OpenAPI document and reference page.
        '/api': [crossOrigin, mount('/api', rest)],
      },
      // /healthz, /readyz, /metrics.
      health({ database, metrics, state }),
    ),
  );
  return app;
}

/**
 * Routes on the first path segment ("/oidc" for "/oidc/token" and for "/oidc" itself) to that
 * segment's middleware; any other path goes to `otherwise`.
 */
function branches(table: Record<string, Middleware[]>, otherwise: Middleware): Middleware {
  const routes = new Map(Object.entries(table).map(([prefix, chain]) => [prefix, compose(chain)]));
  return (ctx, next) => {
    const path = ctx.path;
    const end = path.indexOf('/', 1);
    const branch = routes.get(end === -1 ? path : path.slice(0, end));
    return branch ? branch(ctx, next) : otherwise(ctx, next);
  };
}
