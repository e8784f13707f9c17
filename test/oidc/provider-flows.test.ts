// Gatehouse as an OpenID Connect provider for other apps, driven by a real client library.
import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, oauthClients } from '../../db/schema/index.ts';
import { digest } from '../../server/common/digest.ts';
import { Agent, formAction, hiddenField } from '../helpers/agent.ts';
import { APP, authorize as authorizeAs, firstPartyApp, insecure, issuerOf, oauthError, webApp as registerWebApp } from '../helpers/oidc-flow.ts';
import { newAccount, signIn, startTestServer, tokensOf, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let admin: Awaited<ReturnType<typeof signIn>>;
const webApp = (options: Parameters<typeof registerWebApp>[2] = {}) => registerWebApp(gh, admin, options);
const authorize = (agent: Agent, url: URL, account: { email: string; password: string }, options?: { expectConsent?: boolean }) => authorizeAs(gh, agent, url, account, options);

beforeAll(async () => {
  gh = await startTestServer();
  admin = await signIn(gh, ['admin']);
});
afterAll(() => gh?.close());

const issuer = () => issuerOf(gh);
const api = () => `${gh.url}/api`;

describe('discovery and service flows', () => {
  it('client credentials: an at+jwt with sub = client id, API audience and no session', async () => {
    const svc = await admin.caller.admin.clients.create({ name: 'Billing', grantTypes: ['client_credentials'], scopes: ['api'] });
    expect(svc.clientSecret).toMatch(/^ghs_/);
    const config = await oidc.discovery(issuer(), svc.clientId, undefined, oidc.ClientSecretBasic(svc.clientSecret!), insecure);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api', resource: api() });
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${gh.url}/oidc/jwks`)), {
      issuer: `${gh.url}/oidc`,
      audience: api(),
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: svc.clientId, client_id: svc.clientId, scope: 'api', roles: [], permissions: [] });
    expect(payload.sid).toBeUndefined();
    expect(tokens.refresh_token).toBeUndefined();
    // auth.verify accepts it too.
    expect(await gh.caller().auth.verify({ token: tokens.access_token })).toMatchObject({ active: true, sub: svc.clientId, sid: null });
  });

  it('gives a client only the scopes it was registered for', async () => {
    const narrow = await admin.caller.admin.clients.create({ name: 'Narrow', grantTypes: ['client_credentials'], scopes: ['openid'] });
    const config = await oidc.discovery(issuer(), narrow.clientId, undefined, oidc.ClientSecretBasic(narrow.clientSecret!), insecure);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'api', resource: api() })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('stores the client secret only as a digest, and refuses the digest itself as a secret', async () => {
    const svc = await admin.caller.admin.clients.create({ name: 'Digest', grantTypes: ['client_credentials'], scopes: ['api'] });
    const [row] = await gh.deps.database.db.select().from(oauthClients).where(eq(oauthClients.clientId, svc.clientId));
    expect(row!.secretHash).toBe(digest(svc.clientSecret!));
    expect(JSON.stringify(row)).not.toContain(svc.clientSecret);
    const wrong = await oidc.discovery(issuer(), svc.clientId, undefined, oidc.ClientSecretBasic(row!.secretHash!), insecure);
    expect(await oauthError(oidc.clientCredentialsGrant(wrong, { scope: 'api', resource: api() }))).toBe('invalid_client');
    expect((await admin.caller.admin.clients.list()).find((c) => c.clientId === svc.clientId)).toMatchObject({ public: false, grantTypes: ['client_credentials'], scopes: ['api'] });
  });

  it('offers neither the password grant nor the implicit flow', async () => {
    const svc = await admin.caller.admin.clients.create({ name: 'Legacy', grantTypes: ['client_credentials'] });
    const basic = `Basic ${Buffer.from(`${svc.clientId}:${svc.clientSecret}`).toString('base64')}`;
    const res = await fetch(`${gh.url}/oidc/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: admin.account.email, password: admin.account.password }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('unsupported_grant_type');
    const app = await webApp();
    const implicit = new URL(`${gh.url}/oidc/auth`);
    implicit.search = new URLSearchParams({ client_id: app.clientId, response_type: 'token', redirect_uri: `${APP}/callback`, scope: 'openid' }).toString();
    const hop = await new Agent().request(implicit.href);
    // Refused: never a token in a redirect.
    expect(hop.location ?? '').not.toMatch(/access_token/);
    expect(hop.location ?? hop.body).toMatch(/unsupported_response_type|response_type/);
  });

  it('deleting a client stops its tokens being issued', async () => {
    const svc = await admin.caller.admin.clients.create({ name: 'Doomed', grantTypes: ['client_credentials'], scopes: ['api'] });
    const config = await oidc.discovery(issuer(), svc.clientId, undefined, oidc.ClientSecretBasic(svc.clientSecret!), insecure);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'api', resource: api() })).resolves.toBeTruthy();
    await admin.caller.admin.clients.delete({ clientId: svc.clientId });
    expect(await oauthError(oidc.clientCredentialsGrant(config, { scope: 'api', resource: api() }))).toBe('invalid_client');
    await expect(admin.caller.admin.clients.delete({ clientId: svc.clientId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('admin.clients needs clients:manage and validates its input', async () => {
    const plain = await signIn(gh);
    await expect(plain.caller.admin.clients.list()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(admin.caller.admin.clients.create({ name: 'x', grantTypes: ['authorization_code'] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.caller.admin.clients.create({ name: 'x', grantTypes: ['client_credentials'], public: true })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.caller.admin.clients.create({ name: 'x', grantTypes: ['refresh_token'] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(admin.caller.admin.clients.create({ name: 'x', grantTypes: ['authorization_code'], redirectUris: ['not a url'] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('authorization code + PKCE', () => {
  it('signs in on the hosted page, asks consent, and issues ID, userinfo, API and refresh tokens', async () => {
    const account = newAccount('oidc');
    const user = tokensOf(await gh.caller().auth.register({ ...account, name: 'Ada' }));
    const app = await webApp();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(app.config, {
      redirect_uri: `${APP}/callback`,
      scope: 'openid email profile offline_access api',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      prompt: 'consent',
    });
    const agent = new Agent();
    const callback = await authorize(agent, url, account);
    expect(callback.href.startsWith(`${APP}/callback`)).toBe(true);

    const tokens = await oidc.authorizationCodeGrant(app.config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const idClaims = tokens.claims()!;
    expect(idClaims).toMatchObject({ sub: user.user.id, iss: `${gh.url}/oidc`, aud: app.clientId });
    expect(tokens.refresh_token).toBeTruthy();

    const info = await oidc.fetchUserInfo(app.config, tokens.access_token, user.user.id);
    expect(info).toMatchObject({ sub: user.user.id, email: account.email, email_verified: false, name: 'Ada' });

    // The same grant gives an API token (RFC 8707) on refresh, with the session id and roles.
    const apiTokens = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!, { resource: api() });
    const claims = decodeJwt(apiTokens.access_token);
    expect(claims).toMatchObject({ sub: user.user.id, aud: api(), client_id: app.clientId, roles: ['user'], scope: 'api' });
    expect(typeof claims.sid).toBe('string');
    expect(apiTokens.refresh_token).not.toBe(tokens.refresh_token);
    expect(await gh.caller().auth.verify({ token: apiTokens.access_token })).toMatchObject({ active: true, clientId: app.clientId });

    // The session is the user's to see and end.
    const me = gh.caller({ authorization: `Bearer ${tokensOf(await gh.caller().auth.login(account)).accessToken}` });
    // register and login each started one; the code exchange a third.
    expect(await me.me.sessions.list()).toHaveLength(3);

    // Introspection (the refresh token is opaque) and revocation, with client authentication.
    const live = await oidc.tokenIntrospection(app.config, apiTokens.refresh_token!);
    expect(live).toMatchObject({ active: true, client_id: app.clientId, sub: user.user.id });
    await oidc.tokenRevocation(app.config, apiTokens.refresh_token!);
    expect((await oidc.tokenIntrospection(app.config, apiTokens.refresh_token!)).active).toBe(false);
    await expect(oidc.refreshTokenGrant(app.config, apiTokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('skips consent for a first-party client and for a grant already given', async () => {
    const account = newAccount('fp');
    await gh.caller().auth.register(account);
    const created = await firstPartyApp(gh, 'Our Dashboard');
    const config = await oidc.discovery(issuer(), created.clientId, undefined, oidc.None(), insecure);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: `${APP}/callback`, scope: 'openid api', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's1' });
    const callback = await authorize(new Agent(), url, account, { expectConsent: false });
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's1' });
    expect(tokens.id_token).toBeTruthy();
  });

  it('requires PKCE with S256 from a public client', async () => {
    const app = await webApp({ public: true });
    const base = { redirect_uri: `${APP}/callback`, scope: 'openid', state: 'x' };
    const noPkce = await new Agent().request(oidc.buildAuthorizationUrl(app.config, base).href);
    expect(new URL(noPkce.location!).searchParams.get('error')).toBe('invalid_request');
    const plain = await new Agent().request(oidc.buildAuthorizationUrl(app.config, { ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }).href);
    expect(new URL(plain.location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('matches redirect URIs exactly and never redirects to an unregistered one', async () => {
    const app = await webApp();
    for (const redirect of [`${APP}/callback/`, `${APP}/callback?x=1`, `${APP}/CALLBACK`, 'https://evil.example/callback']) {
      const url = oidc.buildAuthorizationUrl(app.config, { redirect_uri: redirect, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
      const hop = await new Agent().request(url.href);
      expect(hop.location, redirect).toBeNull();
      expect(hop.status).toBe(400);
      expect(hop.body).toMatch(/redirect_uri/);
    }
  });

  it('refuses a wrong password on the hosted page with the usual message, and records it', async () => {
    const account = newAccount('wrong');
    const reg = tokensOf(await gh.caller().auth.register(account));
    const app = await webApp();
    const url = oidc.buildAuthorizationUrl(app.config, { redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: 'y'.repeat(43), code_challenge_method: 'S256' });
    const agent = new Agent();
    const page = await agent.follow(url.href, gh.url);
    expect(page.body).toContain('name="csrf"');
    const wrong = await agent.request(`${gh.url}${formAction(page.body)}`, { form: { csrf: hiddenField(page.body, 'csrf'), email: account.email, password: 'Not-The-Password-1' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('Invalid email or password');
    expect(wrong.body).toContain(`value="${account.email}"`);
    const forged = await agent.request(`${gh.url}${formAction(page.body)}`, { form: { csrf: 'forged', ...account } });
    expect(forged.status).toBe(403);
    const crossSite = await agent.request(`${gh.url}${formAction(page.body)}`, { form: { csrf: hiddenField(page.body, 'csrf'), ...account }, headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    const failed = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.userId, reg.user.id), eq(authEvents.type, 'login_failed')));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ reason: 'wrong_password', metadata: { via: 'hosted_login', clientId: app.clientId } });
  });

  it('shares the login rate limit with auth.login: the sixth wrong password in a minute is refused on the page', async () => {
    const account = newAccount('limited');
    await gh.caller().auth.register(account);
    const app = await webApp();
    const url = oidc.buildAuthorizationUrl(app.config, { redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: 'w'.repeat(43), code_challenge_method: 'S256' });
    const agent = new Agent();
    const page = await agent.follow(url.href, gh.url);
    const post = (password: string) =>
      agent.request(`${gh.url}${formAction(page.body)}`, { form: { csrf: hiddenField(page.body, 'csrf'), email: account.email, password } });
    // Two through the API, three on the page: the same counter.
    for (let i = 0; i < 2; i += 1) await expect(gh.caller({ meta: { ip: '127.0.0.1', userAgent: 'x' } }).auth.login({ ...account, password: `Wrong-${i}-Aa` })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    for (let i = 0; i < 3; i += 1) expect((await post(`Wrong-Page-${i}-Aa`)).status).toBe(401);
    const refused = await post(account.password);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatch(/Too many attempts/);
  });

  it('serves the pages with frame-ancestors none and no-store, and expires unknown interactions', async () => {
    const app = await webApp();
    const url = oidc.buildAuthorizationUrl(app.config, { redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: 'z'.repeat(43), code_challenge_method: 'S256' });
    const agent = new Agent();
    const first = await agent.request(url.href);
    const page = await fetch(first.location!, { headers: { cookie: agent.cookieHeader(new URL(first.location!)) } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const stale = await fetch(`${gh.url}/interaction/doesnotexist`);
    expect(stale.status).toBe(400);
    expect(await stale.text()).toMatch(/expired/);
  });

  it('ends the browser session with RP-initiated logout', async () => {
    const account = newAccount('logout');
    await gh.caller().auth.register(account);
    const app = await webApp();
    const agent = new Agent();
    const verifier = oidc.randomPKCECodeVerifier();
    const params = { redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' };
    const callback = await authorize(agent, oidc.buildAuthorizationUrl(app.config, params), account);
    const tokens = await oidc.authorizationCodeGrant(app.config, callback, { pkceCodeVerifier: verifier, expectedState: 'st' });

    const end = oidc.buildEndSessionUrl(app.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${APP}/bye`, state: 'bye' });
    const confirm = await agent.follow(end.href, gh.url);
    expect(confirm.body).toMatch(/Sign out/);
    const done = await agent.follow(`${gh.url}/oidc/session/end/confirm`, gh.url, { form: { xsrf: hiddenField(confirm.body, 'xsrf'), logout: 'yes' } });
    expect(done.location).toBe(`${APP}/bye?state=bye`);
    // Signed out: the next authorization asks for the password again.
    const again = await agent.follow(oidc.buildAuthorizationUrl(app.config, params).href, gh.url);
    expect(again.body).toContain('name="password"');
  });
});
