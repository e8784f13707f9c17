// Baseline headers on every response, set on the Node response so that they survive handlers that
// bypass Koa (tRPC) and the provider's own error pages.
import type { Middleware } from 'koa';

export function securityHeaders({ https }: { https: boolean }): Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // No page of Gatehouse may be framed (sign-in pages are clickjacking targets). Pages with a
    // fuller policy of their own (the provider's error page) replace this one.
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    ctx.set('X-Frame-Options', 'DENY');
    if (https) {
      ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
      // PUBLIC_URL says browsers reach us over https, so TLS ends in front of this process even
      // when the proxy is not trusted for X-Forwarded-*: cookies get their Secure flag.
      Object.defineProperty(ctx.request, 'secure', { value: true });
    }
    await next();
  };
}
