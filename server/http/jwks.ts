import type { Context } from 'koa';
import type { PublishedKeys } from '../oidc/keystore.ts';

/**
 * Answers with the JWKS as published now, rather than the provider's start-time keystore, so a
 * key added by `keys:rotate` is published by every running instance at once. Answers whatever it
 * is given: the /oidc app (provider.ts) hands it the provider's JWKS route only.
 */
export function jwks(published: PublishedKeys): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const { keys } = await published.get();
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = { keys };
  };
}
