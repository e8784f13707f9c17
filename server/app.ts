// The request listener: /oidc goes to the provider's app, everything else (/trpc, /interaction,
// /account, /api, health, metrics) to the API's. Both start with the same edge.
import type { RequestListener } from 'node:http';
import Koa, { type Middleware } from 'koa';
import compose from 'koa-compose';
import mount from 'koa-mount';
import { createAccountRoutes } from './account/routes.ts';
import type { Deps } from './deps.ts';
import { MAX_BODY_BYTES } from './http/body-limit.ts';
import { cors } from './http/cors.ts';
import { edge, type EdgeOptions } from './http/edge.ts';
import { health, type AppState } from './http/health.ts';
import { providerEndpoint } from './http/provider.ts';
import { pinToPublicUrl } from './http/public-url.ts';
import { below, providerRouteName, routeNamer } from './http/routing.ts';
import { trpcEndpoint } from './http/trpc.ts';
import { createInteractionRoutes } from './oidc/interactions.ts';
import { lazyRestApi } from './rest/lazy.ts';
import { createHttpContext } from './trpc/context.ts';
import { appRouter } from './trpc/router.ts';

const OIDC = '/oidc';

export function createApp(deps: Deps, state: AppState = { draining: false }): RequestListener {
  const { config, log, metrics, provider, database } = deps;
  const https = new URL(config.publicUrl).protocol === 'https:';
  const koa = (shared: Pick<EdgeOptions, 'routeOf' | 'mountPath' | 'oauth'>, branch: Middleware): Koa => {
    // The provider signs its cookies with these keys; an app it runs in must use the same ones.
    const app = new Koa({ keys: deps.keys.cookieSecrets, proxy: config.trustProxy > 0, maxIpsCount: config.trustProxy });
    app.silent = true;
    pinToPublicUrl(app, config.publicUrl);
    app.use(edge({ log, metrics, https, ...shared }));
    app.use(branch);
    return app;
  };

  // Its own app rather than koa-mount: a token request never passes through the API's middleware,
  // which the token endpoint's benchmark target needs. Mount it plainly if the target holds without.
  const oidc = koa({ routeOf: providerRouteName, mountPath: OIDC, oauth: true }, providerEndpoint({ provider }));
  // oidc-provider builds its URLs from ctx.mountPath (koa-mount's property) when req.originalUrl
  // (Express's) is not set: the issuer's path, which keeps a path prefix of PUBLIC_URL.
  oidc.context.mountPath = new URL(config.issuer).pathname;
  // The provider's own app serves the in-process refreshes of auth.refresh.
  pinToPublicUrl(provider, config.publicUrl);

  const procedures = new Set(Object.keys(appRouter._def.procedures));
  const crossOrigin = cors({ origins: config.corsOrigins });
  const rest = lazyRestApi({
    router: appRouter,
    baseUrl: `${config.publicUrl}/api`,
    maxBodySize: MAX_BODY_BYTES,
    log,
    createContext: (ctx) => createHttpContext(deps, ctx),
  });
  const api = koa(
    { routeOf: routeNamer(procedures), mountPath: '', oauth: false },
    branches(
      {
        '/trpc': [crossOrigin, trpcEndpoint(deps)],
        '/interaction': [
          createInteractionRoutes({ provider, auth: deps.auth, mfa: deps.mfa, loginGuard: deps.loginGuard, rateLimits: deps.rateLimits, config, log, secrets: deps.keys.cookieSecrets }),
        ],
        '/account': [createAccountRoutes({ recovery: deps.recovery, rateLimits: deps.rateLimits, config, log })],
        '/api': [crossOrigin, mount('/api', rest)],
      },
      health({ database, metrics: config.metricsPort === null ? metrics : null, state }),
    ),
  );

  const [handleOidc, handleApi] = [oidc.callback(), api.callback()];
  return (req, res) => {
    const rest = below(OIDC, req.url ?? '/');
    if (rest === null) {
      void handleApi(req, res);
      return;
    }
    req.url = rest;
    void handleOidc(req, res);
  };
}

function branches(table: Record<string, Middleware[]>, otherwise: Middleware): Middleware {
  const routes = new Map(Object.entries(table).map(([prefix, chain]) => [prefix, compose(chain)]));
  return (ctx, next) => {
    const path = ctx.path;
    const end = path.indexOf('/', 1);
    const branch = routes.get(end === -1 ? path : path.slice(0, end));
    return branch ? branch(ctx, next) : otherwise(ctx, next);
  };
}
