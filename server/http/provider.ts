// The provider's app, below its mount point: the provider, with the JWKS answer replaced by the
// published key set. The provider's own route decides it (ctx.oidc.route), however the path is
// spelled. The token endpoint's limit runs inside the provider (server/oidc/token-events.ts), so
// that auth.refresh meets it too.
import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { PublishedKeys } from '../oidc/keystore.ts';
import { jwks } from './jwks.ts';

export function providerEndpoint({ provider, published }: { provider: Provider; published: PublishedKeys }): Middleware {
  // The provider is a Koa app: its middleware runs on this app's context, as koa-mount runs it.
  const run = compose(provider.middleware);
  const serveJwks = jwks(published);
  return async (ctx, next) => {
    await run(ctx, next);
    if ((ctx as { oidc?: { route?: string } }).oidc?.route === 'jwks' && ctx.status === 200) await serveJwks(ctx);
  };
}
