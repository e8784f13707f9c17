// Low-cardinality route names for metrics: a closed set, never a raw path, an id or a name a
// client made up.
import type { Context } from 'koa';

const FIXED = new Set(['/healthz', '/readyz', '/metrics']);

/** Routes of the API's app: health, tRPC procedures, the login pages, REST. */
export function routeNamer(procedures: ReadonlySet<string>): (ctx: Context) => string {
  return (ctx) => {
    const path = ctx.path;
    if (FIXED.has(path)) return path.slice(1);
    if (path.startsWith('/trpc/')) {
      const name = path.slice('/trpc/'.length);
      if (procedures.has(name)) return `trpc:${name}`;
      return name.includes(',') ? 'trpc:batch' : 'trpc:unknown';
    }
    if (path.startsWith('/interaction/')) return 'interaction';
    if (path === '/api' || path.startsWith('/api/')) return 'api';
    return 'other';
  };
}

/** Routes of the provider's app, whose paths are below its mount point. */
export function providerRouteName(ctx: Context): string {
  // The provider names the route it matched (token, jwks, discovery, ...); a closed set.
  const route = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
  return typeof route === 'string' && /^[a-z_]{1,40}$/.test(route) ? `oidc:${route}` : 'oidc:other';
}
