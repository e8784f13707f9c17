// Koa composition: request ids and logs, headers, errors, body limit, CORS, health and metrics,
// the JWKS, the hosted login pages, /oidc, /trpc, /api. Each piece lives in server/http/,
// server/oidc/ or server/rest/.
import Koa from 'koa';
import mount from 'koa-mount';
import type { Deps } from './deps.ts';
import { accessLog } from './http/access-log.ts';
import { bodyLimit } from './http/body-limit.ts';
import { cors } from './http/cors.ts';
import { errorResponses } from './http/errors.ts';
import { health, type AppState } from './http/health.ts';
import { jwks } from './http/jwks.ts';
import { refuseQueryCredentials } from './http/query-tokens.ts';
import { routeNamer } from './http/route-name.ts';
import { securityHeaders } from './http/security-headers.ts';
import { tokenEndpointLimit } from './http/token-limit.ts';
import { trpcEndpoint } from './http/trpc.ts';
import { MAX_BODY_BYTES } from './http/body-limit.ts';
import { createInteractionRoutes } from './oidc/interactions.ts';
import { createRestApi } from './rest/handler.ts';
import { createContext } from './trpc/context.ts';
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

  app.use(accessLog({ log, metrics, routeOf: routeNamer(procedures) }));
  app.use(securityHeaders({ https: new URL(config.publicUrl).protocol === 'https:' }));
  app.use(errorResponses({ log, providerPrefix: OIDC }));
  app.use(bodyLimit({ providerPrefix: OIDC }));
  app.use(refuseQueryCredentials());
  app.use(cors({ origins: config.corsOrigins, prefixes: ['/trpc', '/api'] }));
  // First of the endpoints: the busiest, and the ones below never serve its paths.
  app.use(trpcEndpoint(deps));
  app.use(health({ database, metrics, state }));
  app.use(tokenEndpointLimit({ limiter: deps.rateLimits.token, path: `${OIDC}/token` }));
  app.use(jwks({ published: deps.published, path: `${OIDC}/jwks` }));
  app.use(createInteractionRoutes({ provider, auth: deps.auth, rateLimits: deps.rateLimits, config, log, secret: deps.keys.cookieSecrets[0]! }));
  app.use(mount(OIDC, provider));
  // The REST mirror of the procedures, with its OpenAPI document and reference page.
  app.use(
    mount(
      '/api',
      createRestApi({
        router: appRouter,
        baseUrl: `${config.publicUrl}/api`,
        maxBodySize: MAX_BODY_BYTES,
        log,
        createContext: (ctx) =>
          createContext(deps, {
            meta: { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null },
            authorization: ctx.get('authorization') || null,
            onAuthenticated: (userId) => {
              ctx.state.userId = userId;
            },
          }),
      }),
    ),
  );
  return app;
}
