// Koa composition: errors, headers, request ids, logs, body limit, health, /oidc, /trpc, /api.
import { randomUUID } from 'node:crypto';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import Koa from 'koa';
import mount from 'koa-mount';
import type { Deps } from './deps.ts';
import { createInteractionRoutes } from './oidc/interactions.ts';
import { createRestApi } from './rest/handler.ts';
import { createContext } from './trpc/context.ts';
import { appRouter } from './trpc/router.ts';

export const MAX_BODY_BYTES = 100 * 1024;
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AppState {
  /** Set while the process drains on shutdown: readiness then answers 503. */
  draining: boolean;
}

export function createApp(deps: Deps, state: AppState = { draining: false }): Koa {
  const { config, log, provider, database } = deps;
  // The provider signs its cookies with these keys; the Koa app must use the same ones.
  const app = new Koa({ keys: deps.keys.cookieSecrets, proxy: config.trustProxy });
  app.silent = true;

  // Request id, baseline headers and the access log. Headers go straight onto the Node response
  // so they survive handlers that bypass Koa (tRPC) and the provider's own error rendering.
  app.use(async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    try {
      await next();
    } finally {
      // Handlers that bypass Koa (tRPC) have written their status straight to the Node response.
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      log.info({ reqId: requestId, method: ctx.method, path: ctx.path, status, ms: Math.round(performance.now() - started), userId: ctx.state.userId }, 'request');
    }
  });

  // Errors: a JSON body with a code and a short message, never a stack.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const err = error as { status?: number; expose?: boolean; message?: string };
      const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
      if (status >= 500) log.error({ err: error, reqId: ctx.state.requestId }, 'unhandled error');
      ctx.status = status;
      ctx.body = { error: { code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', message: status < 500 && err.expose ? err.message : 'Internal error' } };
    }
  });

  // 413 before any work is done. Bodies without a length are capped by the tRPC and REST handlers below.
  app.use(async (ctx, next) => {
    const length = Number(ctx.get('content-length') || 0);
    if (length > MAX_BODY_BYTES) {
      ctx.status = 413;
      ctx.set('Connection', 'close');
      ctx.body = { error: { code: 'PAYLOAD_TOO_LARGE', message: `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB` } };
      return;
    }
    await next();
  });

  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const ready = !state.draining && (await database.ping().then(() => true, () => false));
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : state.draining ? 'draining' : 'database unavailable' };
      return;
    }
    await next();
  });

  // The JWKS is served from KEYS_DIR rather than from the provider's start-time keystore, so a key
  // added by `keys:rotate` is published by every running instance at once.
  app.use(async (ctx, next) => {
    if (ctx.path !== '/oidc/jwks' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const { keys } = await deps.published.get();
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = { keys };
  });

  app.use(createInteractionRoutes({ provider, auth: deps.auth, config, log, secret: deps.keys.cookieSecrets[0]! }));

  app.use(mount('/oidc', provider));

  app.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/trpc/')) return next();
    // Koa presets 404; tRPC writes the response itself.
    ctx.respond = false;
    ctx.res.statusCode = 200;
    const meta = { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
    await nodeHTTPRequestHandler({
      router: appRouter,
      req: ctx.req,
      res: ctx.res,
      path: ctx.path.slice('/trpc/'.length),
      maxBodySize: MAX_BODY_BYTES,
      createContext: () => createContext(deps, { meta, authorization: ctx.get('authorization') || null }),
      onError: ({ error }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, reqId: ctx.state.requestId }, 'trpc error');
      },
    });
  });

  // The REST mirror of the procedures, with its OpenAPI document and reference page.
  app.use(
    mount(
      '/api',
      createRestApi({
        router: appRouter,
        baseUrl: `${config.publicUrl}/api`,
        maxBodySize: MAX_BODY_BYTES,
        log,
        createContext: (ctx) => createContext(deps, { meta: { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null }, authorization: ctx.get('authorization') || null }),
      }),
    ),
  );

  return app;
}
