// The tRPC endpoint: plain JSON, the body capped, Retry-After on 429, and the signed-in user handed
// to the access log.
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import type { Middleware } from 'koa';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { createContext } from '../trpc/context.ts';
import { appRouter } from '../trpc/router.ts';
import { MAX_BODY_BYTES, readCapped, tooLarge } from './body-limit.ts';

function retryAfterOf(errors: readonly { cause?: unknown }[]): number | undefined {
  for (const error of errors) {
    if (error.cause instanceof AppError && error.cause.details.retryAfterSeconds !== undefined) return error.cause.details.retryAfterSeconds;
  }
  return undefined;
}

// tRPC writes its own Vary; appended to, it keeps the Origin that CORS (cors.ts) set. Built once:
// tRPC only reads it, and a Headers per request is a measurable share of a cheap call.
const VARY_ORIGIN = { headers: new Headers([['vary', 'Origin']]) };

export function trpcEndpoint(deps: Deps, prefix = '/trpc'): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith(`${prefix}/`)) return next();
    if (ctx.method === 'POST') {
      // Read here, as text, and handed over as req.body (which tRPC's node adapter takes as is),
      // rather than streamed into a fetch Request: on a call as cheap as auth.verify, the web
      // stream machinery was a tenth of the time spent. Still raw text: tRPC parses it.
      const body = await readCapped(ctx, MAX_BODY_BYTES).catch(() => null);
      if (body === undefined) return tooLarge(ctx);
      if (body === null) {
        // The client went away mid-body: no one is left to answer.
        ctx.status = 400;
        return;
      }
      (ctx.req as { body?: string }).body = body.toString('utf8');
    }
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
        const retryAfter = retryAfterOf(errors);
        if (retryAfter === undefined) return VARY_ORIGIN;
        return { headers: new Headers([['vary', 'Origin'], ['retry-after', String(retryAfter)]]) };
      },
      onError: ({ error }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') deps.log.error({ err: error.cause ?? error, reqId: ctx.state.requestId }, 'trpc error');
      },
    });
  };
}
