// The provider's app, below its mount point: the provider, with two paths of ours in front of it.
// POST /token runs under its rate limit; GET and HEAD /jwks are served from KEYS_DIR. This router
// is what confines each of them to its path and methods; every other request goes straight to the
// provider.
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { PublishedKeys } from '../oidc/keystore.ts';
import type { Limiter } from '../services/rate-limits/limiter.ts';
import { jwks } from './jwks.ts';
import { tokenEndpointLimit } from './token-limit.ts';

export function providerEndpoint({ provider, tokenLimit, published }: { provider: Provider; tokenLimit: Limiter; published: PublishedKeys }): Middleware {
  // The provider is a Koa app: its middleware runs on this app's context, as koa-mount runs it.
  const run = compose(provider.middleware);
  const limited = tokenEndpointLimit(tokenLimit);
  const serveJwks = jwks(published);
  return (ctx, next) => {
    const path = ctx.path;
    if (path === '/token' && ctx.method === 'POST') return limited(ctx, () => run(ctx, next));
    if (path === '/jwks' && (ctx.method === 'GET' || ctx.method === 'HEAD')) return serveJwks(ctx);
    return run(ctx, next);
  };
}
