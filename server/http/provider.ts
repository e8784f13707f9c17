// The provider's app, its JWKS answer replaced by the key set as last read from KEYS_DIR, so that a key
// added by keys:rotate is served by every instance at once.
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { PublishedKeys } from '../oidc/keystore.ts';

export function providerEndpoint({ provider, published }: { provider: Provider; published: PublishedKeys }): Middleware {
  // The provider is a Koa app: its middleware runs on this app's context, as koa-mount runs it.
  const run = compose(provider.middleware);
  return async (ctx, next) => {
    await run(ctx, next);
    if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'jwks' || ctx.status !== 200) return;
    const { keys } = await published.get();
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = { keys };
  };
}
