// Which app a request goes to, and the metrics' route names: a closed set, never a raw path or an id.
import type { Context } from 'koa';

/** The target below `prefix`, matched as koa-mount does (`/oidc?x` is `/?x`, `/oidcx` elsewhere), or null;
 *  an absolute-form target is matched on its path. */
export function below(prefix: string, target: string): string | null {
  let path = target;
  if (path.charCodeAt(0) !== 0x2f) {
    const url = URL.parse(target);
    if (!url) return null;
    path = url.pathname + url.search;
  }
  if (!path.startsWith(prefix)) return null;
  const next = path.charCodeAt(prefix.length);
  if (Number.isNaN(next)) return '/';
  if (next === 0x2f) return path.slice(prefix.length);
  if (next === 0x3f) return `/${path.slice(prefix.length)}`;
  return null;
}

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
    if (path.startsWith('/interaction/')) return 'interaction';
    if (path.startsWith('/account/')) return 'account';
    if (path === '/api' || path.startsWith('/api/')) return 'api';
    return 'other';
  };
}

export function providerRouteName(ctx: Context): string {
  // The provider names the route it matched (token, jwks, discovery, ...); a closed set.
  const route = (ctx as { oidc?: { route?: unknown } }).oidc?.route;
  return typeof route === 'string' && /^[a-z_]{1,40}$/.test(route) ? `oidc:${route}` : 'oidc:other';
}
