// The request id, the access log line and the request histogram. The log line names the user when
// an authenticated procedure found one (ctx.state.userId); never a header, a body or a query.
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function accessLog({ log, metrics, routeOf }: { log: Logger; metrics: Metrics; routeOf: (ctx: Context) => string }): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      // Handlers that bypass Koa (tRPC) have written their status straight to the Node response.
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const ms = performance.now() - started;
      metrics.httpRequestDuration.observe({ method: ctx.method, route: routeOf(ctx), status: String(status) }, ms / 1000);
      log.info({ reqId: requestId, method: ctx.method, path: ctx.path, status, ms: Math.round(ms), userId: ctx.state.userId }, 'request');
    }
  };
}
