// The sign-in loop: register, login, refresh, logout, verify, me.get. Over real HTTP where the
// wire is what is tested (statuses, field errors, the client address and user agent, GET vs POST);
// through createCaller where the test is about what the procedure does (rotation and reuse, races,
// the grace window, which sessions a logout ends, verify's verdicts).
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, users } from '../../db/schema/index.ts';
import { operator } from '../../server/services/rbac.ts';
import { startTestServer, newAccount, trpcHttp, TEST_META, tokensOf, type TestServer } from '../helpers/server.ts';

let gh: TestServer;

beforeAll(async () => {
  // Grace 0: a second use of a rotated refresh token is reuse straight away (the grace window has
  // its own test below).
  gh = await startTestServer({ refreshGraceSeconds: 0 });
});
afterAll(() => gh?.close());

async function register(account = newAccount(), extra: Record<string, unknown> = {}) {
  const res = await trpcHttp(gh.url, 'auth.register', { ...account, ...extra });
  expect(res.status).toBe(200);
  return { account, tokens: res.body.result.data as { accessToken: string; refreshToken: string; expiresIn: number; tokenType: string; user: any } };
}

const refresh = (refreshToken: string) => trpcHttp(gh.url, 'auth.refresh', { refreshToken });
const meGet = (accessToken: string) => trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${accessToken}` } });

/** The same sign-up through createCaller, for the tests that are about the procedures, not the wire. */
async function signUp(account = newAccount()) {
  return { account, tokens: tokensOf(await gh.caller().auth.register(account)) };
}
/** A caller signed in with `accessToken`, or anonymous. */
const as = (accessToken?: string) => gh.caller({ authorization: accessToken ? `Bearer ${accessToken}` : null });
const rejects = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });

async function eventsOf(userId: string) {
  return gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, userId));
}

describe('auth.register', () => {
  it('returns a TokenSet whose access token verifies against the served JWKS', async () => {
    const { account, tokens } = await register(newAccount(), { name: 'Ada Lovelace' });
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.expiresIn).toBe(900);
    expect(tokens.user).toMatchObject({ email: account.email, name: 'Ada Lovelace', emailVerified: false, isActive: true, roles: ['user'] });
    expect(tokens.user).not.toHaveProperty('passwordHash');

    const jwks = createRemoteJWKSet(new URL(`${gh.url}/oidc/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, jwks, {
      issuer: `${gh.url}/oidc`,
      audience: `${gh.url}/api`,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({ sub: tokens.user.id, client_id: 'gatehouse', scope: 'api', roles: ['user'], permissions: [] });
    expect(typeof payload.sid).toBe('string');
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('lower-cases the email and refuses a duplicate in any letter case with 409', async () => {
    const account = newAccount();
    const { tokens } = await register({ ...account, email: `  ${account.email.toUpperCase()} ` });
    expect(tokens.user.email).toBe(account.email);
    const again = await trpcHttp(gh.url, 'auth.register', { ...account, email: account.email.replace(/^./, (c) => c.toUpperCase()) });
    expect(again.status).toBe(409);
    expect(again.body.error.data.code).toBe('CONFLICT');
    const rows = await gh.deps.database.db.select().from(users).where(eq(users.email, account.email));
    expect(rows).toHaveLength(1);
  });

  it('refuses weak passwords with 400 and the reasons in fieldErrors', async () => {
    for (const password of ['short1A', 'alllowercase123', 'NoDigitsHereAtAll', 'Password1']) {
      const res = await trpcHttp(gh.url, 'auth.register', { ...newAccount(), password });
      expect(res.status, password).toBe(400);
      expect(res.body.error.data.code).toBe('BAD_REQUEST');
      expect(res.body.error.data.fieldErrors.password.length, password).toBeGreaterThan(0);
    }
    const common = await trpcHttp(gh.url, 'auth.register', { ...newAccount(), password: 'Password1' });
    expect(common.body.error.data.fieldErrors.password.join(' ')).toMatch(/common/i);
  });

  it('refuses a password over 72 UTF-8 bytes with 400 instead of truncating it', async () => {
    // 24 three-byte characters are 72 bytes; one more ASCII character tips it over.
    const long = `${'€'.repeat(24)}A1b`;
    const account = newAccount();
    const res = await trpcHttp(gh.url, 'auth.register', { ...account, password: long });
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors.password.join(' ')).toMatch(/72 bytes/);
    const rows = await gh.deps.database.db.select().from(users).where(eq(users.email, account.email));
    expect(rows).toHaveLength(0);
    const login = await trpcHttp(gh.url, 'auth.login', { email: account.email, password: `${'x'.repeat(73)}` });
    expect(login.status).toBe(400);
  });

  it('refuses unknown fields and malformed input with 400 and fieldErrors', async () => {
    const res = await trpcHttp(gh.url, 'auth.register', { ...newAccount(), roles: ['admin'] });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('Invalid input');
    const bad = await trpcHttp(gh.url, 'auth.register', { email: 'not-an-email', password: 7 });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.data.fieldErrors).sort()).toEqual(['email', 'password']);
  });
});

describe('auth.login', () => {
  it('signs in, updates last_login_at and records the event with ip and user agent', async () => {
    const { account, tokens } = await register();
    const before = tokens.user.lastLoginAt;
    await new Promise((r) => setTimeout(r, 10));
    const res = await trpcHttp(gh.url, 'auth.login', account);
    expect(res.status).toBe(200);
    const user = res.body.result.data.user;
    expect(new Date(user.lastLoginAt).getTime()).toBeGreaterThan(new Date(before).getTime());
    const events = await eventsOf(user.id);
    const login = events.find((e) => e.type === 'login');
    expect(login).toMatchObject({ success: true, ip: '127.0.0.1', userAgent: TEST_META.userAgent });
    expect(events.some((e) => e.type === 'register' && e.success)).toBe(true);
  });

  it('answers a wrong password, an unknown email and a disabled account with the same 401', async () => {
    const { account, tokens } = await register();
    const disabled = await register();
    await gh.deps.database.db.update(users).set({ isActive: false }).where(eq(users.id, disabled.tokens.user.id));

    const wrong = await trpcHttp(gh.url, 'auth.login', { ...account, password: 'Wrong-Password-123' });
    const unknown = await trpcHttp(gh.url, 'auth.login', { email: `nobody.${Date.now()}@example.test`, password: account.password });
    const off = await trpcHttp(gh.url, 'auth.login', disabled.account);
    for (const res of [wrong, unknown, off]) {
      expect(res.status).toBe(401);
      expect(res.body.error.message).toBe('Invalid email or password');
    }
    expect(unknown.body).toEqual({ ...wrong.body });
    const failed = (await eventsOf(tokens.user.id)).filter((e) => e.type === 'login_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ success: false, reason: 'wrong_password', ip: '127.0.0.1', userAgent: TEST_META.userAgent });
  });
});

describe('auth.refresh', () => {
  it('rotates the refresh token on every use and records it', async () => {
    const { tokens } = await register();
    const first = await refresh(tokens.refreshToken);
    expect(first.status).toBe(200);
    const next = first.body.result.data;
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(next.accessToken).not.toBe(tokens.accessToken);
    expect(next.user.id).toBe(tokens.user.id);
    expect(decodeJwt(next.accessToken).sid).toBe(decodeJwt(tokens.accessToken).sid);
    const second = await refresh(next.refreshToken);
    expect(second.status).toBe(200);
    const refreshes = (await eventsOf(tokens.user.id)).filter((e) => e.type === 'refresh' && e.success);
    expect(refreshes).toHaveLength(2);
    expect(refreshes[0]).toMatchObject({ ip: '127.0.0.1', userAgent: TEST_META.userAgent });
  });

  it('revokes the whole session when a rotated refresh token is used again', async () => {
    const { tokens } = await signUp();
    const rotated = await as().auth.refresh({ refreshToken: tokens.refreshToken });
    await rejects(as().auth.refresh({ refreshToken: tokens.refreshToken }), 'UNAUTHORIZED');
    // The legitimate holder's newest token dies with the session, and so do its access tokens.
    await rejects(as().auth.refresh({ refreshToken: rotated.refreshToken }), 'UNAUTHORIZED');
    await rejects(as(rotated.accessToken).me.get(), 'UNAUTHORIZED');
    const events = await eventsOf(tokens.user.id);
    expect(events.filter((e) => e.type === 'refresh_reuse_detected')).toHaveLength(1);
  });

  it('lets exactly one of ten parallel refreshes of one token succeed', async () => {
    const { tokens } = await signUp();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => as().auth.refresh({ refreshToken: tokens.refreshToken })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('works at /oidc/token with grant_type=refresh_token, and rotates there too', async () => {
    const { tokens } = await register();
    const res = await fetch(`${gh.url}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, client_id: 'gatehouse' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body.token_type).toBe('Bearer');
    expect(body.refresh_token).not.toBe(tokens.refreshToken);
    expect(decodeProtectedHeader(body.access_token!).typ).toBe('at+jwt');
    expect(decodeJwt(body.access_token!)).toMatchObject({ sub: tokens.user.id, aud: `${gh.url}/api`, roles: ['user'] });
    // The token it hands back works in tRPC, and the one it consumed does not.
    expect((await refresh(body.refresh_token!)).status).toBe(200);
    expect((await meGet(body.access_token!)).status).toBe(200);
  });

  it('refuses a disabled user at the token endpoint', async () => {
    const { tokens } = await signUp();
    await gh.deps.database.db.update(users).set({ isActive: false }).where(eq(users.id, tokens.user.id));
    await rejects(as().auth.refresh({ refreshToken: tokens.refreshToken }), 'UNAUTHORIZED');
    await rejects(as(tokens.accessToken).me.get(), 'UNAUTHORIZED');
  });

  it('refuses garbage with 401 and oversized input with 400', async () => {
    expect((await refresh('not-a-token')).status).toBe(401);
    expect((await refresh('x'.repeat(9000))).status).toBe(400);
  });
});

describe('refresh grace window', () => {
  let graced: TestServer;
  beforeAll(async () => {
    graced = await startTestServer({ refreshGraceSeconds: 30 });
  });
  afterAll(() => graced?.close());

  it('fails a duplicate inside the window without revoking the session', async () => {
    const tokens = tokensOf(await graced.caller().auth.register(newAccount()));
    const first = await graced.caller().auth.refresh({ refreshToken: tokens.refreshToken });
    await rejects(graced.caller().auth.refresh({ refreshToken: tokens.refreshToken }), 'UNAUTHORIZED');
    await expect(graced.caller().auth.refresh({ refreshToken: first.refreshToken })).resolves.toMatchObject({ tokenType: 'Bearer' });
    const reuse = await graced.deps.database.db
      .select()
      .from(authEvents)
      .where(and(eq(authEvents.userId, tokens.user.id), eq(authEvents.type, 'refresh_reuse_detected')));
    expect(reuse).toHaveLength(0);
  });
});

describe('auth.logout', () => {
  it('ends the session: refresh fails and the old access token gets 401 on me.get', async () => {
    const { tokens } = await register();
    expect((await meGet(tokens.accessToken)).status).toBe(200);
    const res = await trpcHttp(gh.url, 'auth.logout', { refreshToken: tokens.refreshToken });
    expect(res.body.result.data).toEqual({ success: true });
    expect((await refresh(tokens.refreshToken)).status).toBe(401);
    const me = await meGet(tokens.accessToken);
    expect(me.status).toBe(401);
    expect(me.body.error.data.code).toBe('UNAUTHORIZED');
    const events = await eventsOf(tokens.user.id);
    expect(events.find((e) => e.type === 'logout')).toMatchObject({ success: true, ip: '127.0.0.1', userAgent: TEST_META.userAgent });
  });

  it('ends only its own session', async () => {
    const { account, tokens } = await signUp();
    const other = tokensOf(await as().auth.login(account));
    await expect(as().auth.logout({ refreshToken: tokens.refreshToken })).resolves.toEqual({ success: true });
    await expect(as(other.accessToken).me.get()).resolves.toMatchObject({ id: tokens.user.id });
    await expect(as().auth.refresh({ refreshToken: other.refreshToken })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('answers success for an unknown token and changes nothing', async () => {
    const { tokens } = await signUp();
    await expect(as().auth.logout({ refreshToken: 'no-such-token' })).resolves.toEqual({ success: true });
    // Nothing ended: a live session still works.
    await expect(as(tokens.accessToken).me.get()).resolves.toMatchObject({ id: tokens.user.id });
    await expect(as().auth.refresh({ refreshToken: tokens.refreshToken })).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});

describe('auth.verify', () => {
  it('reports a live token as active with its claims, and inactive after logout', async () => {
    const { tokens } = await signUp();
    expect(await as().auth.verify({ token: tokens.accessToken })).toMatchObject({
      active: true,
      sub: tokens.user.id,
      clientId: 'gatehouse',
      scope: 'api',
      roles: ['user'],
      permissions: [],
      sid: decodeJwt(tokens.accessToken).sid,
      exp: decodeJwt(tokens.accessToken).exp,
    });
    await as().auth.logout({ refreshToken: tokens.refreshToken });
    expect(await as().auth.verify({ token: tokens.accessToken })).toEqual({ active: false });
  });

  it('reports the roles and permissions the user holds now, not those the token was issued with', async () => {
    const { tokens } = await signUp();
    await gh.deps.roleAdmin.create({ name: 'verify-auditor', permissions: ['audit:read'] }, operator());
    await gh.deps.userAdmin.update({ id: tokens.user.id, roles: ['user', 'verify-auditor'] }, operator());
    expect(await as().auth.verify({ token: tokens.accessToken })).toMatchObject({ active: true, roles: ['user', 'verify-auditor'], permissions: ['audit:read'] });
    expect(decodeJwt(tokens.accessToken).roles).toEqual(['user']);
    await gh.deps.userAdmin.update({ id: tokens.user.id, isActive: false }, operator());
    expect(await as().auth.verify({ token: tokens.accessToken })).toEqual({ active: false });
  });

  it('reports forged, tampered and foreign tokens as inactive', async () => {
    const { tokens } = await signUp();
    const [h, p, s] = tokens.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;
    for (const token of ['garbage', tampered, unsigned, tokens.refreshToken]) {
      expect(await as().auth.verify({ token }), token).toEqual({ active: false });
    }
  });

  it('is a mutation: a token in the URL of a GET is refused, never checked', async () => {
    const { tokens } = await register();
    const res = await trpcHttp(gh.url, 'auth.verify', { token: tokens.accessToken }, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(JSON.stringify(res.body)).not.toContain('"active"');
  });
});

describe('me.get', () => {
  it('returns the caller and nothing secret; 401 without a token or with a malformed header', async () => {
    const { account, tokens } = await register();
    const me = await meGet(tokens.accessToken);
    expect(me.body.result.data).toMatchObject({ id: tokens.user.id, email: account.email, roles: ['user'] });
    expect(JSON.stringify(me.body)).not.toMatch(/\$2[aby]\$/);
    expect((await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET' })).status).toBe(401);
    expect((await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Basic ${tokens.accessToken}` } })).status).toBe(401);
  });
});
