// The /oidc branch: the provider, mounted, with two paths of ours in front of it. POST /token runs
// under its rate limit; GET and HEAD /jwks are served from KEYS_DIR. This router is what confines
// each of them to its path and methods; every other request goes straight to the provider.
import type { Middleware } from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import type { PublishedKeys } from '../oidc/keystore.ts';
import type { Limiter } from '../services/rate-limits/limiter.ts';
import { jwks } from './jwks.ts';
import { tokenEndpointLimit } from './token-limit.ts';

export function providerEndpoint({ provider, prefix, tokenLimit, published }: { provider: Provider; prefix: string; tokenLimit: Limiter; published: PublishedKeys }): Middleware {
  const mounted = mount(prefix, provider);
  const limited = tokenEndpointLimit(tokenLimit);
  const serveJwks = jwks(published);
  const [tokenPath, jwksPath] = [`${prefix}/token`, `${prefix}/jwks`];
  return (ctx, next) => {
    const path = ctx.path;
    if (path === tokenPath && ctx.method === 'POST') return limited(ctx, () => mounted(ctx, next));
    if (path === jwksPath && (ctx.method === 'GET' || ctx.method === 'HEAD')) return serveJwks(ctx);
    return mounted(ctx, next);
  };
}
