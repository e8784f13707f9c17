// The one token issuer. Every token Gatehouse hands out, whether through /oidc or through tRPC,
// is minted by this provider's models and signed with the keys it publishes.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Db } from '../../db/client.ts';
import { findUserById } from '../services/users.ts';
import { loadAccess } from '../services/rbac.ts';
import type { AdapterClass } from './adapter.ts';
import type { Keys } from './keystore.ts';

/** The built-in public client that Gatehouse's own API mints sessions for. */
export const FIRST_PARTY_CLIENT_ID = 'gatehouse';
/** The scope of access tokens for Gatehouse's API ($PUBLIC_URL/api). */
export const API_SCOPE = 'api';
export const ACCESS_TOKEN_ALG = 'ES256';
/** Recorded as the grant type of sessions started by Gatehouse's own sign-in (auth.login, auth.register). */
export const FIRST_PARTY_GTY = 'urn:gatehouse:login';

export interface ProviderDeps {
  config: Config;
  db: Db;
  keys: Keys;
  Adapter: AdapterClass;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function apiResourceServer(config: Config) {
  return {
    scope: API_SCOPE,
    audience: config.apiAudience,
    accessTokenTTL: config.accessTokenTtl,
    accessTokenFormat: 'jwt' as const,
    jwt: { sign: { alg: ACCESS_TOKEN_ALG as 'ES256' } },
  };
}

export function createProvider({ config, db, keys, Adapter }: ProviderDeps): Provider {
  const epoch = () => Math.floor(Date.now() / 1000);
  const resourceServer = apiResourceServer(config);

  // Outside a request (tokens minted by the tRPC API) the provider passes ctx === undefined to
  // the ttl functions and extraTokenClaims: none of them may read it.
  const configuration: Configuration = {
    adapter: Adapter,
    jwks: { keys: keys.signing },
    cookies: {
      keys: keys.cookieSecrets,
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    clients: [
      {
        client_id: FIRST_PARTY_CLIENT_ID,
        client_name: 'Gatehouse',
        token_endpoint_auth_method: 'none',
        grant_types: ['refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    scopes: ['openid', 'offline_access', 'email', 'profile', API_SCOPE],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(_ctx, sub) {
      // A disabled or deleted user is no account: the token endpoint then refuses their refresh tokens.
      const user = /^[0-9a-f-]{36}$/i.test(sub) ? await findUserById(db, sub) : undefined;
      if (!user || !user.isActive) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({ sub: user.id, email: user.email, email_verified: user.emailVerified, name: user.name ?? undefined }),
      };
    },
    async extraTokenClaims(_ctx, token) {
      if (!('accountId' in token) || !token.accountId) return { roles: [], permissions: [] };
      const access = await loadAccess(db, token.accountId);
      return { roles: access.roles, permissions: access.permissions, sid: token.grantId };
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.apiAudience,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resource) {
          if (resource === config.apiAudience) return resourceServer;
          throw new errors.InvalidTarget();
        },
      },
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    rotateRefreshToken: true,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // A plain page with the OAuth error code and its description, escaped; never internals.
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head><body><h1>Sign-in error</h1><p>${escapeHtml(String(out.error))}</p>${out.error_description ? `<p>${escapeHtml(String(out.error_description))}</p>` : ''}</body></html>`;
    },
    ttl: {
      AccessToken: config.accessTokenTtl,
      ClientCredentials: config.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: config.accessTokenTtl,
      Interaction: 600,
      Session: config.refreshTokenTtl,
      Grant: config.refreshTokenTtl,
      // Absolute: a rotated token keeps the first one's issue time (iiat), so rotation never
      // extends a session past REFRESH_TOKEN_TTL.
      RefreshToken: (_ctx, token) => Math.max(1, config.refreshTokenTtl - (epoch() - (token.iiat ?? epoch()))),
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  return provider;
}

export type { KoaContextWithOIDC };
