// The one token issuer: every token, through /oidc or tRPC, is minted by this provider with its keys.
import Provider, { errors, interactionPolicy, type ClientMetadata, type Configuration } from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Db } from '../../db/client.ts';
import { findUserById } from '../services/users.ts';
import { loadAccess, tokenPermissions } from '../services/rbac.ts';
import { loadClientAccess } from '../services/clients.ts';
import { digest } from '../common/digest.ts';
import { UUID } from '../common/inputs.ts';
import { API_SCOPE, FIRST_PARTY_CLIENT_ID, OIDC_SCOPES } from '../common/permissions.ts';
import type { AdapterFactory } from './adapter.ts';
import type { LoadedKeys } from '../services/signing-keys.ts';
import { messagePage, sendPage } from '../common/page.ts';
import { logoutPage } from './pages.ts';
import { createResourceServers, type ResourceServers } from './resource-servers.ts';

export const SCOPES = OIDC_SCOPES;
export { API_SCOPE, FIRST_PARTY_CLIENT_ID };
export const PROFILE_CLAIMS = ['name', 'given_name', 'family_name', 'picture', 'locale', 'zoneinfo'] as const;
/** Recorded as the grant type of sessions started by Gatehouse's own sign-in (auth.login, auth.register). */
export const FIRST_PARTY_GTY = 'urn:gatehouse:login';

/** Authentication context classes: a password alone, or a password and a second factor. */
export const ACR = { password: 'urn:gatehouse:acr:pwd', mfa: 'urn:gatehouse:acr:mfa' } as const;
/** The `acr` that the methods of `amr` (RFC 8176) make. */
export const acrOf = (amr: readonly string[]) => (amr.includes('otp') ? ACR.mfa : ACR.password);

// The methods of a sign-in made outside a request (tRPC), set on its access token before it is saved.
const mintedAmr = new WeakMap<object, readonly string[]>();
export function setSignInMethods(token: object, amr: readonly string[]): void {
  mintedAmr.set(token, amr);
}

interface SignInEntities {
  oidc?: { entities?: { RefreshToken?: { amr?: string[] }; AuthorizationCode?: { amr?: string[] } } };
}

/** The sign-in methods behind a user's access token: set at mint, or those its code or refresh token carries. */
function amrOf(ctx: unknown, token: object): readonly string[] | undefined {
  const entities = (ctx as SignInEntities | undefined)?.oidc?.entities;
  return mintedAmr.get(token) ?? entities?.RefreshToken?.amr ?? entities?.AuthorizationCode?.amr;
}

export interface ProviderDeps {
  config: Config;
  db: Db;
  keys: Pick<LoadedKeys, 'signing' | 'cookieSecrets'>;
  adapter: AdapterFactory;
  /** Clients from CLIENTS_FILE, with secrets already digested. */
  staticClients?: ClientMetadata[];
  resourceServers?: ResourceServers;
}

export function isFirstParty(client: { clientId: string; metadata(): Record<string, unknown> } | undefined): boolean {
  return client !== undefined && (client.clientId === FIRST_PARTY_CLIENT_ID || client.metadata().first_party === true);
}

/** Whether a token or grant type belongs to a session of Gatehouse's own sign-in (gty is space-separated). */
export function isFirstPartySession(token: { gty?: string | undefined }): boolean {
  return token.gty?.split(' ').includes(FIRST_PARTY_GTY) ?? false;
}

export function createProvider({ config, db, keys, adapter, staticClients = [], resourceServers = createResourceServers({ config, db }) }: ProviderDeps): Provider {
  const epoch = () => Math.floor(Date.now() / 1000);
  const resourceOf = (token: { resourceServer?: { identifier(): string } | undefined }) => {
    const identifier = token.resourceServer?.identifier();
    return identifier ? resourceServers.find(identifier) : Promise.resolve(undefined);
  };

  // Outside a request (tokens minted for tRPC) the ttl functions and extraTokenClaims get no ctx: never read it.
  const configuration: Configuration = {
    adapter,
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
      ...staticClients,
    ],
    extraClientMetadata: {
      properties: ['first_party', 'pkce_required'],
      validator(_ctx, key, value, metadata) {
        if (value !== undefined && typeof value !== 'boolean') throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
        if (key === 'pkce_required' && value === false && metadata.token_endpoint_auth_method === 'none') {
          throw new errors.InvalidClientMetadata('a public client cannot be exempted from PKCE');
        }
      },
    },
    // Asymmetric algorithms only: HMAC would turn the stored secret digest into key material.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
      requestObjectSigningAlgValues: ['RS256', 'ES256', 'PS256', 'EdDSA'],
    },
    scopes: [...SCOPES],
    acrValues: [ACR.password, ACR.mfa],
    // How and when the user signed in (amr, acr, auth_time) go into every id_token.
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: [...PROFILE_CLAIMS] },
    // Scope claims go in the id_token too: relying parties reading only it (Auth.js) would see just `sub`.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      // A disabled or deleted user is no account: the token endpoint then refuses their refresh tokens.
      const user = UUID.test(sub) ? await findUserById(db, sub) : undefined;
      if (!user || !user.isActive) return undefined;
      // Under EMAIL_VERIFICATION=required an unverified address is no account either: no refresh, no silent sign-in.
      if (config.emailVerification === 'required' && !user.emailVerified) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({
          sub: user.id,
          email: user.email,
          email_verified: user.emailVerified,
          name: user.name ?? undefined,
          given_name: user.givenName ?? undefined,
          family_name: user.familyName ?? undefined,
          picture: user.picture ?? undefined,
          locale: user.locale ?? undefined,
          zoneinfo: user.zoneinfo ?? undefined,
        }),
      };
    },
    async extraTokenClaims(ctx, token) {
      const resource = await resourceOf(token);
      if (token.kind === 'ClientCredentials') {
        // A machine's token: its client's roles, narrowed to the permissions it asked for, if it named any.
        const access = await loadClientAccess(db, token.clientId!);
        const requested = (token.scope ?? '').split(' ').filter((s) => access.granted.includes(s));
        return { roles: access.roles, permissions: tokenPermissions(access, resource, requested.length > 0 ? requested.join(' ') : null) };
      }
      if (!('accountId' in token) || !token.accountId) return { roles: [], permissions: [] };
      const access = await loadAccess(db, token.accountId);
      // Gatehouse's own sign-in gets what the user holds; another app only what was asked for and consented to.
      const narrowTo = isFirstPartySession(token) || token.clientId === FIRST_PARTY_CLIENT_ID ? null : (token.scope ?? '');
      const amr = amrOf(ctx, token);
      return { roles: access.roles, permissions: tokenPermissions(access, resource, narrowTo), sid: token.grantId, ...(amr ? { amr, acr: acrOf(amr) } : {}) };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // A client introspects or revokes its own tokens only: another's reads as inactive, its revocation a no-op.
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      // Off: nothing here checks a proof of possession (cnf.jkt), so a DPoP-bound token would be a mere bearer token.
      dPoP: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => sendPage(ctx, logoutPage(form, ctx.oidc.client?.clientName)),
        postLogoutSuccessSource: async (ctx) => sendPage(ctx, messagePage('Signed out', 'You are signed out.')),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.apiAudience,
        // Without `resource`, a token request with `openid` gets a userinfo token, one without it the API token.
        useGrantedResource: () => false,
        async getResourceServerInfo(_ctx, resource, client) {
          const { info, permissions } = await resourceServers.get(resource);
          // A client whose scopes leave out `api` gets no scope of Gatehouse's own API.
          if (permissions === null && client.scope && !client.scope.split(' ').includes(API_SCOPE)) return { ...info, scope: '' };
          return info;
        },
      },
    },
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!isFirstParty(client)) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const requested = [...ctx.oidc.requestParamScopes];
      grant.addOIDCScope(requested.join(' '));
      for (const [identifier, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        grant.addResourceScope(identifier, requested.filter((s) => server.scopes.has(s)).join(' '));
      }
      await grant.save();
      return grant;
    },
    // PKCE for every client but a confidential one an admin exempted; a code_challenge sent is still checked.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' || client.metadata().pkce_required !== false },
    responseTypes: ['code'],
    // Always rotate; but first refuse a resource the token cannot be used for, or the spent token would
    // be lost with the error (oidc-provider checks the resource only after rotating).
    async rotateRefreshToken(ctx) {
      const resource = ctx.oidc.params?.resource;
      const token = ctx.oidc.entities.RefreshToken;
      if (typeof resource === 'string' && token) {
        await resourceServers.get(resource);
        if (!token.resourceIndicators.has(resource)) throw new errors.InvalidTarget();
      }
      return true;
    },
    interactions: { policy: interactionPolicyWithCreate(), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    discovery: { prompt_values_supported: ['none', 'login', 'consent', 'create'] },
    // The OAuth error code and its description, escaped; never internals.
    async renderError(ctx, out) {
      sendPage(ctx, messagePage('Sign-in error', String(out.error_description ?? 'The request could not be completed.'), String(out.error)));
    },
    ttl: {
      // A registered resource may set its own lifetime.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: config.accessTokenTtl,
      Interaction: 600,
      // Absolute from sign-in: the provider saves the session on every use, so a fixed TTL would keep extending it.
      Session: (_ctx, session) => Math.max(1, config.refreshTokenTtl - (session.loginTs ? epoch() - session.loginTs : 0)),
      Grant: config.refreshTokenTtl,
      // Absolute: a rotated token keeps the first one's iiat, so rotation never extends a session.
      RefreshToken: (_ctx, token) => Math.max(1, config.refreshTokenTtl - (epoch() - (token.iiat ?? epoch()))),
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy > 0;
  provider.maxIpsCount = config.trustProxy;
  // A session of Gatehouse's own sign-in may mint a token for any registered resource (auth.refresh with
  // `resource`, or RFC 8707 at /oidc/token); getResourceServerInfo still refuses unregistered ones.
  const granted = inheritedGetter(provider.RefreshToken.prototype, 'resourceIndicators');
  if (!granted) throw new Error('oidc-provider: RefreshToken.resourceIndicators not found');
  Object.defineProperty(provider.RefreshToken.prototype, 'resourceIndicators', {
    configurable: true,
    get(this: InstanceType<Provider['RefreshToken']>) {
      return isFirstPartySession(this) ? ANY_RESOURCE : granted.call(this);
    },
  });
  // Secrets are stored as digests: compare the digest of what is presented (oidc-provider's one secret check).
  const compare = provider.Client.prototype.compareClientSecret;
  provider.Client.prototype.compareClientSecret = function compareDigest(actual: string) {
    return compare.call(this, digest(actual));
  };
  return provider;
}

/** What oidc-provider asks of a refresh token's resources is `has`. */
const ANY_RESOURCE: ReadonlySet<string> = new (class extends Set<string> {
  override has(): boolean {
    return true;
  }
})();

function inheritedGetter(proto: object | null, key: string): (() => unknown) | undefined {
  for (; proto; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, key);
    if (descriptor) return descriptor.get;
  }
  return undefined;
}

/** The default policy, with prompt=create (OpenID Connect Prompt Create 1.0) first: asked for, it opens the sign-up form. */
function interactionPolicyWithCreate(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  return policy;
}
