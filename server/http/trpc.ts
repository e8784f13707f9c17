// The tRPC endpoint: plain JSON, the body capped, Retry-After on 429, and the signed-in user handed
// to the access log.
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { Middleware } from 'koa';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { createContext } from '../trpc/context.ts';
import { appRouter } from '../trpc/router.ts';
import { MAX_BODY_BYTES } from './body-limit.ts';

function retryAfterOf(errors: readonly { cause?: unknown }[]): number | undefined {
  for (const error of errors) {
    if (error.cause instanceof AppError && error.cause.details.retryAfterSeconds !== undefined) return error.cause.details.retryAfterSeconds;
  }
  return undefined;
}

export function trpcEndpoint(deps: Deps, prefix = '/trpc'): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith(`${prefix}/`)) return next();
    // Koa presets 404; tRPC writes the response itself. Its answers carry tokens: never cached.
    ctx.respond = false;
    ctx.res.statusCode = 200;
    ctx.set('Cache-Control', 'no-store');
    const meta = { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
    await nodeHTTPRequestHandler({
      router: appRouter,
      req: ctx.req,
      res: ctx.res,
      path: ctx.path.slice(prefix.length + 1),
      maxBodySize: MAX_BODY_BYTES,
      // Only the Authorization header carries the caller's token: never the URL, never a cookie.
      createContext: () =>
        createContext(deps, {
          meta,
          authorization: ctx.get('authorization') || null,
          onAuthenticated: (userId) => {
            ctx.state.userId = userId;
          },
        }),
      responseMeta: ({ errors }) => {
        // tRPC writes its own Vary; appended to, it keeps the Origin that CORS (cors.ts) set.
        const headers = new Headers([['vary', 'Origin']]);
        const retryAfter = retryAfterOf(errors);
        if (retryAfter !== undefined) headers.append('retry-after', String(retryAfter));
        return { headers };
      },
      onError: ({ error }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') deps.log.error({ err: error.cause ?? error, reqId: ctx.state.requestId }, 'trpc error');
      },
    });
  };
}
