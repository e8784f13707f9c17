// The REST mirror over HTTP: every endpoint once, the statuses and the one error shape, and every
// answer checked against the service's own OpenAPI document (test/helpers/openapi.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Meta } from '../../server/trpc/init.ts';
import { appRouter } from '../../server/trpc/router.ts';
import { restClient, type RestClient } from '../helpers/openapi.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let api: RestClient;
let admin: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  gh = await startTestServer();
  api = await restClient(gh.url);
  admin = await signIn(gh, ['admin']);
});
afterAll(() => gh?.close());

const token = () => admin.tokens.accessToken;

describe('the OpenAPI document', () => {
  it('puts every procedure on the mirror, with the routes of the specification', () => {
    const operations = Object.entries(api.document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      [
        'POST /auth/register',
        'POST /auth/signup',
        'POST /auth/login',
        'POST /auth/mfa/verify',
        'POST /auth/refresh',
        'POST /auth/logout',
        'POST /auth/logout-all',
        'POST /auth/verify',
        'GET /auth/me',
        'PUT /auth/me',
        'POST /auth/change-password',
        'GET /auth/me/sessions',
        'DELETE /auth/me/sessions/{id}',
        'POST /auth/me/mfa/totp/begin',
        'POST /auth/me/mfa/totp/confirm',
        'POST /auth/me/mfa/disable',
        'POST /auth/me/mfa/recovery-codes',
        'GET /users',
        'POST /users',
        'GET /users/{id}',
        'PUT /users/{id}',
        'DELETE /users/{id}',
        'DELETE /users/{id}/sessions',
        'POST /users/{id}/password-reset',
        'POST /users/{id}/mfa/reset',
        'GET /admin/users',
        'POST /admin/users',
        'GET /admin/users/{id}',
        'PUT /admin/users/{id}',
        'DELETE /admin/users/{id}',
        'DELETE /admin/users/{id}/sessions',
        'POST /admin/users/{id}/password-reset',
        'POST /admin/users/{id}/mfa/reset',
        'POST /auth/password-reset/request',
        'POST /auth/password-reset',
        'POST /auth/verify-email',
        'POST /auth/verify-email/resend',
        'POST /auth/change-email',
        'POST /auth/confirm-email-change',
        'GET /admin/roles',
        'POST /admin/roles',
        'PUT /admin/roles/{id}',
        'DELETE /admin/roles/{id}',
        'GET /admin/clients',
        'POST /admin/clients',
        'PUT /admin/clients/{clientId}',
        'DELETE /admin/clients/{clientId}',
        'GET /admin/resources',
        'POST /admin/resources',
        'PUT /admin/resources',
        'DELETE /admin/resources',
        'GET /admin/audit',
        'GET /admin/audit/suspicious',
      ].sort(),
    );
    // A procedure added without a route fails here: the mirror covers them all.
    const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: Meta } }>);
    expect(procedures.filter(([, p]) => !p._def.meta?.openapi).map(([path]) => path)).toEqual([]);
  });

  it('documents bearer tokens in the Authorization header, on signed-in routes only', () => {
    expect(api.document.servers).toEqual([{ url: `${gh.url}/api` }]);
    expect(api.document.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect(api.document.paths['/auth/login']!.post!.security).toBeUndefined();
    expect(api.document.paths['/auth/me']!.get!.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(api.document.paths['/users']!.post!.responses)).toContain('201');
  });
});

describe('sign-in', () => {
  it('registers (201), refuses a duplicate (409) and invalid input (400), on both paths', async () => {
    const account = newAccount('rest');
    const created = await api.call('POST', '/auth/register', { body: account });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tokenType: 'Bearer', user: { email: account.email, roles: ['user'] } });
    expect(created.headers.get('cache-control')).toBe('no-store');

    const duplicate = await api.call('POST', '/auth/signup', { body: { ...account, email: account.email.toUpperCase() } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({ error: { code: 'CONFLICT', message: expect.any(String), fieldErrors: { email: ['Already registered'] } } });

    const other = newAccount('signup');
    expect((await api.call('POST', '/auth/signup', { body: other })).status).toBe(201);

    const invalid = await api.call('POST', '/auth/register', { body: { email: 'not-an-email', password: 'short', roles: ['admin'] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('BAD_REQUEST');
    expect(Object.keys(invalid.body.error.fieldErrors)).toEqual(expect.arrayContaining(['email']));
    const weak = await api.call('POST', '/auth/register', { body: { email: newAccount().email, password: 'password' } });
    expect(weak.status).toBe(400);
    expect(weak.body.error.fieldErrors.password.length).toBeGreaterThan(0);
  });

  it('logs in (200, 401 for a wrong password), refreshes, verifies and logs out', async () => {
    const account = newAccount('rest');
    await api.call('POST', '/auth/register', { body: account });
    expect((await api.call('POST', '/auth/login', { body: { ...account, password: 'Wrong-Password-1' } })).body).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'Invalid email or password' },
    });
    const login = await api.call('POST', '/auth/login', { body: account });
    expect(login.status).toBe(200);

    const refreshed = await api.call('POST', '/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(login.body.refreshToken);

    const active = await api.call('POST', '/auth/verify', { body: { token: refreshed.body.accessToken } });
    expect(active.body).toMatchObject({ active: true, sub: login.body.user.id });

    expect((await api.call('POST', '/auth/logout', { body: { refreshToken: refreshed.body.refreshToken } })).body).toEqual({ success: true });
    expect((await api.call('POST', '/auth/verify', { body: { token: refreshed.body.accessToken } })).body).toEqual({ active: false });
    expect((await api.call('POST', '/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } })).status).toBe(401);
  });
});

describe('the signed-in user', () => {
  it('reads and updates the profile, refusing fields that are not the user\'s', async () => {
    const me = await signIn(gh);
    const accessToken = me.tokens.accessToken;
    expect((await api.call('GET', '/auth/me', { token: accessToken })).body).toMatchObject({ id: me.user.id, givenName: null });
    const updated = await api.call('PUT', '/auth/me', { token: accessToken, body: { name: 'Ada', locale: 'en-GB' } });
    expect(updated.body).toMatchObject({ name: 'Ada', locale: 'en-GB' });
    const grab = await api.call('PUT', '/auth/me', { token: accessToken, body: { roles: ['admin'] } });
    expect(grab.status).toBe(400);
  });

  it('takes the token from the Authorization header only', async () => {
    expect((await api.call('GET', '/auth/me')).status).toBe(401);
    // A credential in the query string is refused outright (400), before anything reads it.
    const inUrl = await api.call('GET', `/auth/me?access_token=${token()}`);
    expect(inUrl.status).toBe(400);
    expect(inUrl.body.error.code).toBe('BAD_REQUEST');
    expect((await api.call('GET', '/auth/me', { headers: { authorization: `Basic ${token()}` } })).status).toBe(401);
  });

  it('changes the password, lists and revokes sessions, and logs out everywhere', async () => {
    const me = await signIn(gh);
    const other = tokensOf(await gh.caller().auth.login(me.account));
    const wrong = await api.call('POST', '/auth/change-password', { token: me.tokens.accessToken, body: { currentPassword: 'Nope-Nope-123', newPassword: 'Brand-New-Secret-42' } });
    expect(wrong.body.error).toMatchObject({ code: 'BAD_REQUEST', fieldErrors: { currentPassword: ['Incorrect password'] } });

    const sessions = await api.call('GET', '/auth/me/sessions', { token: me.tokens.accessToken });
    expect(sessions.body).toHaveLength(2);
    const otherSession = sessions.body.find((s: { current: boolean }) => !s.current);
    expect((await api.call('DELETE', `/auth/me/sessions/${otherSession.id}`, { token: me.tokens.accessToken })).body).toEqual({ success: true });
    expect((await api.call('DELETE', `/auth/me/sessions/${otherSession.id}`, { token: me.tokens.accessToken })).status).toBe(404);
    expect((await api.call('POST', '/auth/verify', { body: { token: other.accessToken } })).body).toEqual({ active: false });

    const changed = await api.call('POST', '/auth/change-password', { token: me.tokens.accessToken, body: { currentPassword: me.account.password, newPassword: 'Brand-New-Secret-42' } });
    expect(changed.body).toEqual({ success: true });
    // No body and no content type: nothing to parse, nothing refused.
    expect((await api.call('POST', '/auth/logout-all', { token: me.tokens.accessToken })).body).toEqual({ success: true });
    expect((await api.call('GET', '/auth/me', { token: me.tokens.accessToken })).status).toBe(401);
  });
});

describe('users', () => {
  it('needs users:read (403 otherwise) and filters with query parameters', async () => {
    const plain = await signIn(gh);
    expect((await api.call('GET', '/users', { token: plain.tokens.accessToken })).body.error.code).toBe('FORBIDDEN');
    const disabled = await api.call('POST', '/users', { token: token(), body: { ...newAccount('disabled'), name: 'Dormant' } });
    await api.call('PUT', `/users/${disabled.body.id}`, { token: token(), body: { isActive: false } });

    const inactive = await api.call('GET', '/users?isActive=false', { token: token() });
    expect(inactive.body.items.map((u: { id: string }) => u.id)).toEqual([disabled.body.id]);
    const first = await api.call('GET', '/users?isActive=true&limit=1', { token: token() });
    expect(first.body.items).toHaveLength(1);
    const next = await api.call('GET', `/users?isActive=true&limit=1&cursor=${first.body.nextCursor}`, { token: token() });
    expect(next.body.items[0].id).not.toBe(first.body.items[0].id);
    expect((await api.call('GET', '/users?search=Dormant&role=user', { token: token() })).body.total).toBe(1);

    expect((await api.call('GET', '/users?limit=0', { token: token() })).body.error.fieldErrors).toHaveProperty('limit');
    expect((await api.call('GET', '/users?isActive=no', { token: token() })).body.error.fieldErrors).toHaveProperty('isActive');
    expect((await api.call('GET', '/users?unknown=1', { token: token() })).status).toBe(400);
  });

  it('creates (201), reads, updates, ends sessions and deletes; 404 and 409 where due', async () => {
    const account = newAccount('managed');
    const created = await api.call('POST', '/users', { token: token(), body: { ...account, roles: ['user'] } });
    expect(created.status).toBe(201);
    expect((await api.call('POST', '/users', { token: token(), body: account })).status).toBe(409);
    const id = created.body.id as string;
    expect((await api.call('GET', `/users/${id}`, { token: token() })).body).toMatchObject({ id, email: account.email });
    expect((await api.call('GET', '/users/not-a-uuid', { token: token() })).status).toBe(400);
    expect((await api.call('PUT', `/users/${id}`, { token: token(), body: { name: 'Renamed', roles: ['user', 'admin'] } })).body).toMatchObject({ name: 'Renamed', roles: ['admin', 'user'] });

    const session = tokensOf(await gh.caller().auth.login(account));
    expect((await api.call('DELETE', `/users/${id}/sessions`, { token: token() })).body).toEqual({ success: true });
    expect((await api.call('POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } })).status).toBe(401);

    expect((await api.call('DELETE', `/users/${id}`, { token: token() })).body).toEqual({ success: true });
    expect((await api.call('GET', `/users/${id}`, { token: token() })).status).toBe(404);
    expect((await api.call('DELETE', `/users/${id}/sessions`, { token: token() })).status).toBe(404);
  });

  it('reads booleans exactly on both APIs, before and after REST calls: never by truthiness', async () => {
    const someone = await signIn(gh);
    for (const isActive of ['maybe', 0, null, '']) {
      const rest = await api.call('PUT', `/users/${someone.user.id}`, { token: token(), body: { isActive } });
      expect(rest.status).toBe(400);
      const trpc = await trpcHttp(gh.url, 'admin.users.update', { id: someone.user.id, isActive }, { headers: { authorization: admin.authorization } });
      expect(trpc.status).toBe(400);
    }
    expect((await api.call('GET', '/auth/me', { token: someone.tokens.accessToken })).status).toBe(200);
    // The text a query string would carry means what it says.
    expect((await api.call('PUT', `/users/${someone.user.id}`, { token: token(), body: { isActive: 'false' } })).body.isActive).toBe(false);
  });
});

describe('roles and clients under /admin', () => {
  it('manages roles: 201 on create, 409 for built-in ones', async () => {
    const roles = await api.call('GET', '/admin/roles', { token: token() });
    const builtIn = roles.body.find((r: { name: string }) => r.name === 'user');
    const created = await api.call('POST', '/admin/roles', { token: token(), body: { name: 'auditor', permissions: ['audit:read'] } });
    expect(created.status).toBe(201);
    expect((await api.call('PUT', `/admin/roles/${created.body.id}`, { token: token(), body: { description: 'Reads the trail' } })).body).toMatchObject({ description: 'Reads the trail' });
    expect((await api.call('DELETE', `/admin/roles/${created.body.id}`, { token: token() })).body).toEqual({ success: true });
    expect((await api.call('DELETE', `/admin/roles/${builtIn.id}`, { token: token() })).status).toBe(409);
  });

  it('manages OAuth clients: the secret once, 404 for an unknown one', async () => {
    const created = await api.call('POST', '/admin/clients', { token: token(), body: { name: 'Nightly export', grantTypes: ['client_credentials'], public: false } });
    expect(created.status).toBe(201);
    expect(created.body.clientSecret).toMatch(/^ghs_/);
    const list = await api.call('GET', '/admin/clients', { token: token() });
    expect(list.body.find((c: { clientId: string }) => c.clientId === created.body.clientId)).not.toHaveProperty('clientSecret');
    const renamed = await api.call('PUT', `/admin/clients/${created.body.clientId}`, { token: token(), body: { name: 'Weekly export' } });
    expect(renamed.body).toMatchObject({ clientId: created.body.clientId, name: 'Weekly export', pkceRequired: true });
    expect(renamed.body).not.toHaveProperty('clientSecret');
    expect((await api.call('DELETE', `/admin/clients/${created.body.clientId}`, { token: token() })).body).toEqual({ success: true });
    expect((await api.call('DELETE', `/admin/clients/${created.body.clientId}`, { token: token() })).status).toBe(404);
  });
});

describe('the audit trail under /admin', () => {
  it('lists with query-string filters and reports suspicious activity; audit:read only', async () => {
    const plain = await signIn(gh);
    expect((await api.call('GET', '/admin/audit', { token: plain.tokens.accessToken })).status).toBe(403);
    const denied = await api.call('GET', '/admin/audit?type=access_denied&success=false&limit=5', { token: token() });
    expect(denied.status).toBe(200);
    expect(denied.body.items.length).toBeGreaterThanOrEqual(1);
    expect(denied.body.items.every((e: { type: string; success: boolean }) => e.type === 'access_denied' && e.success === false)).toBe(true);
    expect((await api.call('GET', '/admin/audit?limit=0', { token: token() })).status).toBe(400);
    const report = await api.call('GET', '/admin/audit/suspicious?windowMinutes=30&threshold=1', { token: token() });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ windowMinutes: 30, threshold: 1 });
  });
});

describe('the wire', () => {
  const raw = async (path: string, init: RequestInit & { duplex?: 'half' }) => {
    const response = await fetch(`${gh.url}/api${path}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  };

  it('answers unknown paths, bad JSON and other media types in the error shape, without stacks', async () => {
    const answers = [
      ['GET', '/nowhere', await raw('/nowhere', {})],
      ['GET', '/auth/login', await raw('/auth/login', {})],
      ['POST', '/auth/login', await raw('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' })],
      ['POST', '/auth/login', await raw('/auth/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })],
    ] as const;
    expect(answers.map(([, , a]) => [a.status, a.body.error.code])).toEqual([
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
      [400, 'PARSE_ERROR'],
      [415, 'UNSUPPORTED_MEDIA_TYPE'],
    ]);
    for (const [method, path, answer] of answers) {
      api.check(method, path, answer);
      expect(JSON.stringify(answer.body)).not.toMatch(/stack|\bat \w+ \(|node_modules/);
    }
    // The service's baseline headers reach answers the REST handler writes itself.
    expect(answers[2][2].headers.get('x-content-type-options')).toBe('nosniff');
    expect(answers[2][2].headers.get('x-request-id')).toMatch(/^[\w-]+$/);
  });

  it('takes JSON with a charset parameter', async () => {
    const account = newAccount('charset');
    await gh.caller().auth.register(account);
    const answer = await api.call('POST', '/auth/login', { body: account, headers: { 'content-type': 'application/json; charset=UTF-8' } });
    expect(answer.status).toBe(200);
  });

  it('refuses bodies over 100 KB with 413, with or without a length', async () => {
    const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(110 * 1024) });
    const sized = await raw('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    const chunked = await raw('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    });
    for (const answer of [sized, chunked]) {
      expect(answer.status).toBe(413);
      expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      api.check('POST', '/auth/login', answer);
    }
  });
});
