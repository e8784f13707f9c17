// The rate limit of the provider's token endpoint: failed token requests per IP (a success is not
// counted), so a client guessing secrets, codes or refresh tokens is slowed down and a busy
// client-credentials client is not.
import type { Middleware } from 'koa';
import type { Limiter } from '../services/rate-limits/limiter.ts';

export function tokenEndpointLimit({ limiter, path }: { limiter: Limiter; path: string }): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== path) return next();
    const attempt = await limiter.begin('', { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });
    try {
      await next();
    } catch (error) {
      await attempt.failed();
      throw error;
    }
    await (ctx.status < 400 ? attempt.succeeded() : attempt.failed());
  };
}
