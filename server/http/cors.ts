// CORS for /trpc and /api: the CORS_ORIGINS allowlist, no credentials (bearer tokens, not cookies). Every
// answer varies by Origin, so a shared cache never gives one origin's answer to another.
import type { Middleware } from 'koa';

const ALLOW_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
const ALLOW_HEADERS = 'authorization, content-type, x-request-id, trpc-accept';
const EXPOSE_HEADERS = 'x-request-id, retry-after';

export function cors({ origins }: { origins: string[] }): Middleware {
  const allowed = new Set(origins);
  return async (ctx, next) => {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    const ok = origin !== '' && allowed.has(origin);
    const preflight = ctx.method === 'OPTIONS' && ctx.get('access-control-request-method') !== '';

    if (preflight) {
      if (!ok) {
        ctx.status = 403;
        ctx.body = { error: { code: 'FORBIDDEN', message: 'Origin not allowed' } };
        return;
      }
      ctx.vary('Access-Control-Request-Headers');
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', ALLOW_METHODS);
      ctx.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    if (ok) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    await next();
  };
}
