import type { Context } from 'koa';
import type { PublishedKeys } from '../oidc/keystore.ts';

/**
 * Answers with the JWKS, served from KEYS_DIR rather than from the provider's start-time keystore,
 * so a key added by `keys:rotate` is published by every running instance at once. Answers whatever
 * it is given: the /oidc router (provider.ts) hands it GET and HEAD /oidc/jwks only.
 */
export function jwks(published: PublishedKeys): (ctx: Context) => Promise<void> {
  return async (ctx) => {
    const { keys } = await published.get();
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = { keys };
  };
}
