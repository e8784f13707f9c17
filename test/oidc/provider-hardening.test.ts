// The provider against clients that reach for more than their own: another client's tokens,
// DPoP-bound tokens replayed as bearer tokens, and a browser session kept alive forever.
import { eq, sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcPayloads } from '../../db/schema/index.ts';
import { createTokenVerifier } from '../../client/src/verifier/index.ts';
import { Agent } from '../helpers/agent.ts';
import { APP, authorize, codeFlowTokens, firstPartyApp, insecure, issuerOf, webApp } from '../helpers/oidc-flow.ts';
import { rawRequest, trpcMutation } from '../helpers/raw-http.ts';
import { newAccount, signIn, startTestServer, type TestServer } from '../helpers/server.ts';
import { accessClaims, signWithServerKey } from '../helpers/tokens.ts';

let gh: TestServer;
let admin: Awaited<ReturnType<typeof signIn>>;
const SESSION_TTL = 300;
beforeAll(async () => {
  gh = await startTestServer({ env: { REFRESH_TOKEN_TTL: String(SESSION_TTL), ACCESS_TOKEN_TTL: '60' } });
  admin = await signIn(gh, ['admin']);
});
afterAll(() => gh?.close());

const basic = (client: { clientId: string; clientSecret?: string }) => `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
const form = (path: string, client: { clientId: string; clientSecret?: string }, body: Record<string, string>, headers: Record<string, string> = {}) =>
  rawRequest(gh.url, {
    method: 'POST',
    path,
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });

describe('revocation and introspection', () => {
  it('a client can neither revoke nor read another client’s refresh token', async () => {
    const account = newAccount('two-apps');
    await gh.caller().auth.register(account);
    const [photos, mallory] = [await webApp(gh, admin, { name: 'Photos' }), await webApp(gh, admin, { name: 'Mallory' })];
    const tokens = await codeFlowTokens(gh, photos, account);
    const refreshToken = tokens.refresh_token!;

    const revoke = await form('/oidc/token/revocation', mallory, { token: refreshToken, token_type_hint: 'refresh_token' });
    // RFC 7009: answered as for an invalid token, and nothing happens.
    expect(revoke.status).toBe(200);
    const peek = await form('/oidc/token/introspection', mallory, { token: refreshToken });
    expect(JSON.parse(peek.body)).toEqual({ active: false });

    expect((await oidc.tokenIntrospection(photos.config, refreshToken)).active).toBe(true);
    await expect(oidc.refreshTokenGrant(photos.config, refreshToken)).resolves.toHaveProperty('access_token');
  });
});

describe('DPoP', () => {
  async function dpopProof(url: string) {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    return new SignJWT({ htm: 'POST', htu: url, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(publicKey) })
      .sign(privateKey);
  }

  it('is off: a DPoP proof gets a plain bearer token, and discovery offers none', async () => {
    const svc = await admin.caller.admin.clients.create({ name: 'Bound', grantTypes: ['client_credentials'], scopes: ['api'] });
    const res = await form('/oidc/token', svc, { grant_type: 'client_credentials', scope: 'api', resource: `${gh.url}/api` }, { dpop: await dpopProof(`${gh.url}/oidc/token`) });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { token_type: string; access_token: string };
    expect(body.token_type).toBe('Bearer');
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims.cnf).toBeUndefined();
    const discovery = JSON.parse((await rawRequest(gh.url, { path: '/oidc/.well-known/openid-configuration' })).body);
    expect(discovery.dpop_signing_alg_values_supported).toBeUndefined();
  });

  it('a token bound to a key (cnf) is never taken as a bearer token, by the API or the verifier', async () => {
    const user = await signIn(gh);
    const { sid } = (await gh.deps.tokens.verifySignature(user.tokens.accessToken))!;
    const bound = await signWithServerKey(gh, accessClaims(gh, user.user.id, { sid, cnf: { jkt: 'x'.repeat(43) } }));
    const me = await rawRequest(gh.url, { path: '/trpc/me.get', headers: { authorization: `Bearer ${bound}` } });
    expect(me.status).toBe(401);
    const verify = await trpcMutation(gh.url, 'auth.verify', { token: bound });
    expect(verify.json.result.data).toEqual({ active: false });
    const verifier = createTokenVerifier({ issuer: gh.deps.config.issuer, audience: gh.deps.config.apiAudience });
    expect(await verifier.verify(bound)).toMatchObject({ ok: false });
    expect((await verifier.verify(user.tokens.accessToken)).ok).toBe(true);
  });
});

describe('the browser session', () => {
  it('has an absolute lifetime from sign-in: using it does not extend it', async () => {
    const account = newAccount('browser');
    await gh.caller().auth.register(account);
    const client = await firstPartyApp(gh, 'Portal');
    const config = await oidc.discovery(issuerOf(gh), client.clientId, undefined, oidc.None(), insecure);
    const authorizeUrl = async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      return oidc.buildAuthorizationUrl(config, { redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    };
    const browser = new Agent();
    await authorize(gh, browser, await authorizeUrl(), account, { expectConsent: false });

    // The sign-in happened SESSION_TTL - 3 seconds ago.
    const signedInAt = Math.floor(Date.now() / 1000) - SESSION_TTL + 3;
    await gh.deps.database.db
      .update(oidcPayloads)
      .set({ payload: sql`jsonb_set(${oidcPayloads.payload}, '{loginTs}', to_jsonb(${signedInAt}::int))` })
      .where(eq(oidcPayloads.model, 'Session'));
    // Still signed in: the browser gets a code without the password, and the session is saved again.
    const silent = await browser.follow((await authorizeUrl()).href, gh.url);
    expect(silent.location).toMatch(/^http:\/\/127\.0\.0\.1:9\/app\/callback\?code=/);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    // Past the absolute lifetime: the password again.
    const again = await browser.follow((await authorizeUrl()).href, gh.url);
    expect(again.body).toContain('name="password"');
  });
});
