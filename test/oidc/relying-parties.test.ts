// What relying parties that read only the id_token, or cannot send PKCE, meet at the provider.
import * as oidc from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents } from '../../db/schema/index.ts';
import { Agent } from '../helpers/agent.ts';
import { APP, authorize, oauthError, webApp as registerWebApp } from '../helpers/oidc-flow.ts';
import { newAccount, signIn, startTestServer, tokensOf, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let admin: Awaited<ReturnType<typeof signIn>>;
const webApp = (options: Parameters<typeof registerWebApp>[2] = {}) => registerWebApp(gh, admin, options);

beforeAll(async () => {
  gh = await startTestServer();
  admin = await signIn(gh, ['admin']);
});
afterAll(() => gh?.close());

const PROFILE = { name: 'Ada Lovelace', givenName: 'Ada', familyName: 'Lovelace', picture: 'https://pictures.example/ada.png', locale: 'en-GB', zoneinfo: 'Europe/London' };

/** A user with every profile field set. */
async function ada() {
  const account = newAccount('ada');
  const { accessToken } = tokensOf(await gh.caller().auth.register(account));
  await gh.caller({ authorization: `Bearer ${accessToken}` }).me.update(PROFILE);
  return account;
}

/** The browser half of a flow for `app` in a new browser, with PKCE unless `challenge` is null. */
async function codeFor(app: Awaited<ReturnType<typeof webApp>>, account: { email: string; password: string }, params: { scope?: string; challenge: string | null }) {
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(app.config, {
    redirect_uri: `${APP}/callback`,
    scope: params.scope ?? 'openid email profile',
    state,
    nonce,
    ...(params.challenge === null ? {} : { code_challenge: params.challenge, code_challenge_method: 'S256' }),
  });
  const callback = await authorize(gh, new Agent(), url, account);
  return { callback, state, nonce };
}

describe('the id_token', () => {
  it('carries the claims of the granted profile and email scopes, the same as userinfo, signed RS256', async () => {
    const account = await ada();
    const app = await webApp();
    const verifier = oidc.randomPKCECodeVerifier();
    const { callback, state, nonce } = await codeFor(app, account, { challenge: await oidc.calculatePKCECodeChallenge(verifier) });
    const tokens = await oidc.authorizationCodeGrant(app.config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });

    const expected = {
      email: account.email,
      email_verified: false,
      name: PROFILE.name,
      given_name: PROFILE.givenName,
      family_name: PROFILE.familyName,
      picture: PROFILE.picture,
      locale: PROFILE.locale,
      zoneinfo: PROFILE.zoneinfo,
    };
    const idClaims = tokens.claims()!;
    expect(idClaims).toMatchObject(expected);
    const info = await oidc.fetchUserInfo(app.config, tokens.access_token, idClaims.sub);
    expect(info).toMatchObject({ sub: idClaims.sub, ...expected });
    // A client registered with defaults gets RS256, which every relying party can verify.
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
  });

  it('carries no claim of a scope that was not granted', async () => {
    const account = await ada();
    const app = await webApp();
    const verifier = oidc.randomPKCECodeVerifier();
    const { callback, state, nonce } = await codeFor(app, account, { scope: 'openid email', challenge: await oidc.calculatePKCECodeChallenge(verifier) });
    const tokens = await oidc.authorizationCodeGrant(app.config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims.email).toBe(account.email);
    for (const claim of ['name', 'given_name', 'family_name', 'picture', 'locale', 'zoneinfo']) expect(claims[claim], claim).toBeUndefined();
  });
});

describe('PKCE exemption for a confidential client', () => {
  it('is refused for a public client, on create and on update, over HTTP, and changes nothing', async () => {
    const created = await fetch(`${gh.url}/api/admin/clients`, {
      method: 'POST',
      headers: { authorization: admin.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'SPA', grantTypes: ['authorization_code'], redirectUris: [`${APP}/callback`], public: true, pkceRequired: false }),
    });
    expect(created.status).toBe(400);
    expect(((await created.json()) as { error: { fieldErrors: unknown } }).error.fieldErrors).toHaveProperty('pkceRequired');
    expect((await admin.caller.admin.clients.list()).some((c) => c.name === 'SPA')).toBe(false);

    const spa = await webApp({ public: true, name: 'Public SPA' });
    const patched = await fetch(`${gh.url}/api/admin/clients/${spa.clientId}`, {
      method: 'PUT',
      headers: { authorization: admin.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ pkceRequired: false }),
    });
    expect(patched.status).toBe(400);
    const listed = (await admin.caller.admin.clients.list()).find((c) => c.clientId === spa.clientId);
    expect(listed).toMatchObject({ public: true, pkceRequired: true });
    const noPkce = await new Agent().request(oidc.buildAuthorizationUrl(spa.config, { redirect_uri: `${APP}/callback`, scope: 'openid', state: 's' }).href);
    expect(new URL(noPkce.location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('lets an exempted client run the code flow with its secret alone; state and nonce still hold', async () => {
    const account = await ada();
    const app = await webApp({ pkceRequired: false, name: 'Legacy Portal' });
    expect((await admin.caller.admin.clients.list()).find((c) => c.clientId === app.clientId)).toMatchObject({ public: false, pkceRequired: false });

    const { callback, state, nonce } = await codeFor(app, account, { challenge: null });
    expect(callback.searchParams.get('state')).toBe(state);
    const tokens = await oidc.authorizationCodeGrant(app.config, callback, { expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    expect(tokens.claims()).toMatchObject({ email: account.email, nonce });

    // The secret is what the exemption rests on: without it the code is worth nothing.
    const again = await codeFor(app, account, { challenge: null });
    const stolen = await fetch(`${gh.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: again.callback.searchParams.get('code')!, redirect_uri: `${APP}/callback`, client_id: app.clientId }),
    });
    expect(stolen.status).toBe(401);
    expect(((await stolen.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('still checks a code_challenge that the exempted client sends, and never accepts plain', async () => {
    const account = await ada();
    const app = await webApp({ pkceRequired: false, name: 'Legacy With PKCE' });
    const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());

    const first = await codeFor(app, account, { challenge });
    expect(await oauthError(oidc.authorizationCodeGrant(app.config, first.callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: first.state }))).toBe('invalid_grant');
    const second = await codeFor(app, account, { challenge });
    expect(await oauthError(oidc.authorizationCodeGrant(app.config, second.callback, { expectedState: second.state }))).toBe('invalid_grant');

    const plain = oidc.buildAuthorizationUrl(app.config, { redirect_uri: `${APP}/callback`, scope: 'openid', state: 's', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    expect(new URL((await new Agent().request(plain.href)).location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('is switched on and off by an admin, each change audited with who made it', async () => {
    const account = await ada();
    const app = await webApp({ name: 'Switched' });
    const withoutPkce = () => new Agent().request(oidc.buildAuthorizationUrl(app.config, { redirect_uri: `${APP}/callback`, scope: 'openid', state: 's' }).href);
    expect(new URL((await withoutPkce()).location!).searchParams.get('error')).toBe('invalid_request');

    expect(await admin.caller.admin.clients.update({ clientId: app.clientId, pkceRequired: false })).toMatchObject({ clientId: app.clientId, pkceRequired: false, name: 'Switched' });
    const { callback, state, nonce } = await codeFor(app, account, { challenge: null });
    await expect(oidc.authorizationCodeGrant(app.config, callback, { expectedState: state, expectedNonce: nonce })).resolves.toHaveProperty('access_token');

    await admin.caller.admin.clients.update({ clientId: app.clientId, pkceRequired: true });
    expect(new URL((await withoutPkce()).location!).searchParams.get('error')).toBe('invalid_request');

    const trail = await gh.deps.database.db
      .select()
      .from(authEvents)
      .where(and(eq(authEvents.type, 'client_updated'), eq(authEvents.actorId, admin.user.id)));
    const mine = trail.filter((e) => (e.metadata as { clientId?: string }).clientId === app.clientId).map((e) => e.metadata);
    expect(mine).toEqual([
      { clientId: app.clientId, changed: ['pkceRequired'], pkceRequired: false },
      { clientId: app.clientId, changed: ['pkceRequired'], pkceRequired: true },
    ]);
    const [created] = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.type, 'client_created'));
    expect(created?.metadata).toHaveProperty('pkceRequired');
  });

  it('answers a clear error for an unknown client or a bad change, and changes nothing', async () => {
    await expect(admin.caller.admin.clients.update({ clientId: 'gh_nope', pkceRequired: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const app = await webApp({ name: 'Kept' });
    await expect(admin.caller.admin.clients.update({ clientId: app.clientId, redirectUris: [], pkceRequired: false })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.caller.admin.clients.update({ clientId: app.clientId, redirectUris: ['not a url'] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await admin.caller.admin.clients.list()).find((c) => c.clientId === app.clientId)).toMatchObject({ name: 'Kept', pkceRequired: true, redirectUris: [`${APP}/callback`] });
    const user = await signIn(gh);
    await expect(user.caller.admin.clients.update({ clientId: app.clientId, pkceRequired: false })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
