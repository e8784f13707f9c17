// What every request passes first, in this order: its request id, log line and histogram; the
// baseline headers; the error shape; the body limit; the query-credential check. One middleware
// that runs them as steps rather than a stack of five: on the token endpoint, where the provider's
// own work is a couple of hundred microseconds, each extra async frame and Koa getter shows in the
// throughput (README, "Performance").
import type { Context, Middleware } from 'koa';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { accessLog } from './access-log.ts';
import { bodyLimit } from './body-limit.ts';
import { errorResponses } from './errors.ts';
import { admitQuery } from './query-tokens.ts';
import { securityHeaders } from './security-headers.ts';

export interface EdgeOptions {
  log: Logger;
  metrics: Metrics;
  /** The histogram's route label of a request (route-name.ts). */
  routeOf: (ctx: Context) => string;
  /** PUBLIC_URL is https: HSTS (security-headers.ts). */
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
