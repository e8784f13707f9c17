// The provider's app. Its JWKS answer is the provider's own key set, which live-keys.ts rebuilds on a
// rotation; it gets a cache lifetime well inside the staging delay, so that verifiers hold a
// rotated-in key before it signs.
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';

export function providerEndpoint({ provider }: { provider: Provider }): Middleware {
  // The provider is a Koa app: its middleware runs on this app's context, as koa-mount runs it.
  const run = compose(provider.middleware);
  return async (ctx, next) => {
    await run(ctx, next);
    if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'jwks' || ctx.status !== 200) return;
    ctx.set('Cache-Control', 'public, max-age=300');
  };
}
