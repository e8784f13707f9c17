// The provider's app, its JWKS answer the key set as last read from the database, with a cache lifetime
// well inside the staging delay, so that verifiers hold a rotated-in key before it signs.
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { PublishedKeys } from '../oidc/live-keys.ts';

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
