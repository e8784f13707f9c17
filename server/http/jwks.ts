import type Koa from 'koa';
import type { PublishedKeys } from '../oidc/keystore.ts';

/**
 * The JWKS, served from KEYS_DIR rather than from the provider's start-time keystore, so a key
 * added by `keys:rotate` is published by every running instance at once.
 */
export function jwks({ published, path }: { published: PublishedKeys; path: string }): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const { keys } = await published.get();
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = { keys };
  };
}
