// Baseline headers on every response, set on the Node response so that they survive handlers that
// bypass Koa (tRPC) and the provider's own error pages.
import type { Context } from 'koa';

export function securityHeaders({ https }: { https: boolean }): (ctx: Context) => void {
  const headers: [string, string][] = [
    ['X-Content-Type-Options', 'nosniff'],
    ['Referrer-Policy', 'no-referrer'],
    // No page of Gatehouse may be framed (sign-in pages are clickjacking targets). Pages with a
    // fuller policy of their own (the provider's error page) replace this one.
    ['Content-Security-Policy', "frame-ancestors 'none'"],
    ['X-Frame-Options', 'DENY'],
    ...(https ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as [string, string]] : []),
  ];
  return (ctx) => {
    for (const [name, value] of headers) ctx.res.setHeader(name, value);
  };
}
