// Low-cardinality route names for metrics: a closed set, never a raw path, an id or a name a
// client made up.
import type { Context } from 'koa';

const FIXED = new Set(['/healthz', '/readyz', '/metrics']);

export function routeNamer(procedures: ReadonlySet<string>): (ctx: Context) => string {
  return (ctx) => {
    const path = ctx.path;
    if (FIXED.has(path)) return path.slice(1);
    if (path.startsWith('/trpc/')) {
      const name = path.slice('/trpc/'.length);
      if (procedures.has(name)) return `trpc:${name}`;
      return name.includes(',') ? 'trpc:batch' : 'trpc:unknown';
    }
    // Served by Gatehouse itself (server/http/jwks.ts), so the provider names no route for it.
    if (path === '/oidc/jwks') return 'oidc:jwks';
    if (path === '/oidc' || path.startsWith('/oidc/')) {
      // The provider names the route it matched (token, jwks, discovery, ...); a closed set.
      const route = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
      return typeof route === 'string' && /^[a-z_]{1,40}$/.test(route) ? `oidc:${route}` : 'oidc:other';
    }
    if (path.startsWith('/interaction/')) return 'interaction';
    if (path === '/api' || path.startsWith('/api/')) return 'api';
    return 'other';
  };
}
