// What every request passes first, in this order: its request id, log line and histogram; the baseline
// headers; the error shape; the body limit; the query-credential check.
import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { AppError, ERROR_STATUS, oauthErrorOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { bodyLimit } from './body-limit.ts';

export interface EdgeOptions {
  log: Logger;
  metrics: Metrics;
  routeOf: (ctx: Context) => string;
  https: boolean;
  /** The path the app is mounted at ('' at the root); the log line names the request's full path. */
  mountPath: string;
  /** The provider's app: its errors and bodies follow OAuth's conventions. */
  oauth: boolean;
}

export function edge({ log, metrics, routeOf, https, mountPath, oauth }: EdgeOptions): Middleware {
  const requests = accessLog({ log, metrics, routeOf, mountPath });
  const setHeaders = securityHeaders({ https });
  const answerError = errorResponses({ log, oauth });
  const admitBody = bodyLimit({ oauth });
  return async (ctx, next) => {
    const started = requests.start(ctx);
    setHeaders(ctx);
    try {
      const body = admitBody(ctx);
      if ((typeof body === 'boolean' ? body : await body) && admitQuery(ctx)) await next();
    } catch (error) {
      answerError(ctx, error);
    } finally {
      requests.finish(ctx, started);
    }
  };
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface AccessLog {
  start(ctx: Context): number;
  finish(ctx: Context, started: number): void;
}

/** Request id, access log line and histogram. The line may name the user, never a header, body or query. */
function accessLog({ log, metrics, routeOf, mountPath }: Pick<EdgeOptions, 'log' | 'metrics' | 'routeOf' | 'mountPath'>): AccessLog {
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
      if (log.isLevelEnabled('info')) {
        log.info({ reqId: ctx.state.requestId, method, path: mountPath + ctx.path, status, ms: Math.round(ms), userId: ctx.state.userId }, 'request');
      }
    },
  };
}

/** Baseline headers, on the Node response so they survive handlers that bypass Koa and provider error pages. */
function securityHeaders({ https }: { https: boolean }): (ctx: Context) => void {
  const headers: [string, string][] = [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    // No page may be framed (sign-in pages are clickjacking targets); a page with a fuller CSP replaces this.
    ['Content-Security-Policy', "frame-ancestors 'none'"],
    ['X-Frame-Options', 'DENY'],
    ...(https ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as [string, string]] : []),
  ];
  return (ctx) => {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
  };
}

const CREDENTIAL_PARAMS = ['access_token', 'refresh_token', 'id_token', 'client_secret', 'token', 'password'];

/**
 * Refuses (400) a credential in the query string: proxy logs, browser history and Referer keep URLs.
 * The one exception is the single-use `token` of a mailed /account/ link, whose pages send no referrer.
 */
function admitQuery(ctx: Context): boolean {
  if (!ctx.querystring) return true;
  const params = new URLSearchParams(ctx.querystring);
  const mailedLink = ctx.path.startsWith('/account/');
  if (!CREDENTIAL_PARAMS.some((name) => params.has(name) && !(mailedLink && name === 'token'))) return true;
  ctx.status = 400;
  ctx.body = { error: { code: 'BAD_REQUEST', message: 'Credentials are not accepted in the query string; use the Authorization header or the body' } };
  return false;
}

function errorResponses({ log, oauth }: { log: Logger; oauth: boolean }): (ctx: Context, error: unknown) => void {
  return (ctx, error) => {
    if (error instanceof AppError) {
      const { trpc, http } = ERROR_STATUS[error.code];
      ctx.status = http;
      if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
      ctx.body = oauth ? oauthErrorOf(error) : { error: { code: trpc, message: error.message, ...error.details } };
      return;
    }
    const err = error as { status?: number; expose?: boolean; message?: string };
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) log.error({ err: error, reqId: ctx.state.requestId }, 'unhandled error');
    ctx.status = status;
    ctx.body = { error: { code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', message: status < 500 && err.expose ? err.message : 'Internal error' } };
  };
}
