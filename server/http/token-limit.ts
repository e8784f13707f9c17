// The rate limit of the provider's token endpoint: failed token requests per IP (a success is not
// counted), so a client guessing secrets, codes or refresh tokens is slowed down and a busy
// client-credentials client is not.
import type { Middleware } from 'koa';
import type { Limiter } from '../services/rate-limits/limiter.ts';
import { requestMeta } from './request-meta.ts';

export function tokenEndpointLimit({ limiter, path }: { limiter: Limiter; path: string }): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== path) return next();
    await limiter.run(
      '',
      requestMeta(ctx),
      async () => {
        await next();
        return ctx.status;
      },
      (status) => status < 400,
    );
  };
}
