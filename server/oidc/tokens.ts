import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { inject } from 'light-my-request';
import type Provider from 'oidc-provider';
import type { Config } from '../config.ts';
import type { Db } from '../../db/client.ts';
import { AppError, RATE_LIMITED_MESSAGE } from '../errors.ts';
import { recordSession } from '../services/sessions.ts';
import type { AccessClaims, TokenResource, TokenService } from '../services/tokens.ts';
import type { PublishedKeys } from './live-keys.ts';
import { acrOf, API_SCOPE, FIRST_PARTY_CLIENT_ID, FIRST_PARTY_GTY, setSignInMethods } from './provider.ts';
import type { ResourceServers } from './resource-servers.ts';

export function createTokenService({ provider, config, db, published, resourceServers }: { provider: Provider; config: Config; db: Db; published: PublishedKeys; resourceServers: ResourceServers }): TokenService {
  // Verification trusts the published set, which follows rotations made while we run.
  let local: { version: string; get: JWTVerifyGetKey } | undefined;
  const jwks: JWTVerifyGetKey = async (header, token) => {
    const { keys, version } = await published.get();
    if (local?.version !== version) local = { version, get: createLocalJWKSet({ keys }) };
    return local.get(header, token);
  };
  // provider.callback() builds a new handler on every call; one is enough.
  let dispatch: ReturnType<Provider['callback']> | undefined;

  async function verifySignature(token: string, { anyAudience = false } = {}): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: ['ES256', 'RS256'],
        typ: 'at+jwt',
        issuer: config.issuer,
        ...(anyAudience ? {} : { audience: config.apiAudience }),
        clockTolerance: 5,
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      });
      // A token is for one resource (a list is accepted only if it names one).
      const aud = Array.isArray(payload.aud) ? (payload.aud.length === 1 ? payload.aud[0] : undefined) : payload.aud;
      if (typeof aud !== 'string' || !Array.isArray(payload.roles) || !Array.isArray(payload.permissions)) return null;
      // A token bound to a key (DPoP, mTLS) is not a bearer token, and nothing here checks the binding.
      if (payload.cnf !== undefined) return null;
      return { ...payload, aud } as AccessClaims;
    } catch {
      return null;
    }
  }

  async function findResource(identifier: string): Promise<TokenResource | undefined> {
    const found = await resourceServers.find(identifier);
    return found && { identifier, permissions: found.permissions };
  }

  return {
    findResource,

    async mint(userId, meta, resource, amr = ['pwd']) {
      const target = resource ? await resourceServers.get(resource.identifier) : resourceServers.builtIn;
      const client = await provider.Client.find(FIRST_PARTY_CLIENT_ID);
      if (!client) throw new Error('first-party client is not configured');

      const grant = new provider.Grant({ accountId: userId, clientId: client.clientId });
      grant.addResourceScope(config.apiAudience, API_SCOPE);
      const sid = await grant.save();

      const at = new provider.AccessToken({ accountId: userId, client, grantId: sid, gty: FIRST_PARTY_GTY, scope: target.permissions ? '' : API_SCOPE });
      at.resourceServer = new provider.ResourceServer(target.info.audience!, target.info);
      setSignInMethods(at, amr);
      // Resource and scope named, so that the token endpoint picks the same resource server at every
      // rotation; the sign-in methods ride along, so that refreshed tokens carry them too.
      const rt = new provider.RefreshToken({
        accountId: userId,
        client,
        grantId: sid,
        gty: FIRST_PARTY_GTY,
        scope: API_SCOPE,
        resource: config.apiAudience,
        rotations: 0,
        amr: [...amr],
        acr: acrOf(amr),
      });
      const [accessToken, refreshToken] = await Promise.all([at.save(), rt.save()]);
      await recordSession(db, { grantId: sid, userId, clientId: client.clientId, meta, expiresAt: new Date(Date.now() + config.refreshTokenTtl * 1000) });
      return { accessToken, refreshToken, expiresIn: target.info.accessTokenTTL ?? config.accessTokenTtl, sid };
    },

    async refresh(refreshToken, meta, resource) {
      // oidc-provider runs a grant only inside an HTTP request: the refresh goes through its real
      // token endpoint (rotation, reuse detection, limits, audit), injected in process, for as long
      // as the provider has no API for it.
      dispatch ??= provider.callback();
      const response = await inject(dispatch, {
        method: 'POST',
        url: '/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(meta.userAgent ? { 'user-agent': meta.userAgent } : {}),
        },
        remoteAddress: meta.ip ?? '127.0.0.1',
        payload: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: FIRST_PARTY_CLIENT_ID,
          ...(resource ? { resource: resource.identifier } : {}),
        }).toString(),
      });
      const body = response.json() as Record<string, unknown>;
      // The token endpoint's failure limit (token-events.ts) or a store it cannot write.
      if (response.statusCode === 429) {
        throw new AppError('RATE_LIMITED', RATE_LIMITED_MESSAGE, { retryAfterSeconds: Number(response.headers['retry-after']) || 1 });
      }
      if (response.statusCode === 503) throw new AppError('UNAVAILABLE', 'Service temporarily unavailable');
      if (response.statusCode !== 200) {
        return { ok: false, reason: typeof body.error_description === 'string' ? body.error_description : String(body.error) };
      }
      const accessToken = String(body.access_token);
      return {
        ok: true,
        userId: String(decodeJwt(accessToken).sub),
        tokens: { accessToken, refreshToken: String(body.refresh_token), expiresIn: Number(body.expires_in) },
      };
    },

    verifySignature,
  };
}
