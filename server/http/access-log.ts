// The request id, the access log line and the request histogram. The log line names the user when
// an authenticated procedure found one (ctx.state.userId); never a header, a body or a query.
import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface AccessLog {
  /** Names the request (the client's X-Request-Id when sane) and returns its start time. */
  start(ctx: Context): number;
  /** Observes the duration and writes the log line, once the response is decided. */
  finish(ctx: Context, started: number): void;
}

export function accessLog({ log, metrics, routeOf, mountPath }: { log: Logger; metrics: Metrics; routeOf: (ctx: Context) => string; mountPath: string }): AccessLog {
  return {
    start(ctx) {
      const incoming = ctx.get('x-request-id');
      const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      ctx.state.requestId = requestId;
      ctx.res.setHeader('X-Request-Id', requestId);
      return performance.now();
    },
    finish(ctx, started) {
      // Handlers that bypass Koa (tRPC) have written their status straight to the Node response.
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const ms = performance.now() - started;
      const method = ctx.method;
      metrics.httpRequestDuration.observe({ method, route: routeOf(ctx), status: String(status) }, ms / 1000);
      // The line is built only when it is written: below `info` it is a cost on every request.
      if (log.isLevelEnabled('info')) {
        log.info({ reqId: ctx.state.requestId, method, path: mountPath + ctx.path, status, ms: Math.round(ms), userId: ctx.state.userId }, 'request');
      }
    },
  };
}
