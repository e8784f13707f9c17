// The recovery flows as other clients meet them: the REST mirror and its document, tRPC over HTTP,
// the typed client, the hosted /account/ pages over HTTP, EMAIL_VERIFICATION=required, and the log
// mailer of a server without SMTP_URL.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatehouseClient, type TokenSet } from '../../client/src/index.ts';
import { mailOutbox } from '../../db/schema/index.ts';
import { loadTemplates } from '../../server/mail/templates.ts';
import { createMailWorker, enqueueMail } from '../../server/services/outbox.ts';
import { restClient, type RestClient } from '../helpers/openapi.ts';
import { startSmtp, tokenOf, type TestSmtp } from '../helpers/smtp.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let smtp: TestSmtp;
let rest: RestClient;

beforeAll(async () => {
  smtp = await startSmtp();
  gh = await startTestServer({ env: { SMTP_URL: smtp.url }, mail: { pollMs: 100 } });
  rest = await restClient(gh.url);
});
afterAll(async () => {
  await gh?.close();
  await smtp?.stop();
});

const mailTo = (address: string, page: string) => smtp.mailTo(address, page);

describe('REST', () => {
  it('runs a password reset, and answers a bad token with 400 and fieldErrors.token', async () => {
    const account = newAccount('rest-reset');
    expect((await rest.call('POST', '/auth/register', { body: account })).status).toBe(201);
    const requested = await rest.call('POST', '/auth/password-reset/request', { body: { email: account.email } });
    expect(requested).toMatchObject({ status: 200, body: { success: true } });
    const token = tokenOf(await mailTo(account.email, 'reset-password'));

    const bad = await rest.call('POST', '/auth/password-reset', { body: { token: `${token.slice(0, -2)}xx`, newPassword: 'Rest-New-Secret-55' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fieldErrors).toEqual({ token: ['This link is invalid or has expired'] });
    expect((await rest.call('POST', '/auth/password-reset', { body: { token, newPassword: 'Rest-New-Secret-55' } })).status).toBe(200);
    expect((await rest.call('POST', '/auth/login', { body: { email: account.email, password: 'Rest-New-Secret-55' } })).status).toBe(200);
  });

  it('verifies an address and changes it', async () => {
    const account = newAccount('rest-verify');
    const signedUp = await rest.call('POST', '/auth/register', { body: account });
    const token = tokenOf(await mailTo(account.email, 'verify-email'));
    expect((await rest.call('POST', '/auth/verify-email', { body: { token } })).status).toBe(200);
    const resent = await rest.call('POST', '/auth/verify-email/resend', { body: { email: account.email } });
    expect(resent.status).toBe(200);

    const newEmail = newAccount('rest-new').email;
    const accessToken = signedUp.body.accessToken as string;
    expect((await rest.call('POST', '/auth/change-email', { token: accessToken, body: { newEmail, currentPassword: account.password } })).status).toBe(200);
    const confirm = tokenOf(await mailTo(newEmail, 'confirm-email'));
    expect((await rest.call('POST', '/auth/confirm-email-change', { body: { token: confirm } })).status).toBe(200);
    expect((await rest.call('GET', '/auth/me', { token: accessToken })).body).toMatchObject({ email: newEmail, emailVerified: true });
  });

  it('signs out with only the bearer access token', async () => {
    const account = newAccount('rest-bearer');
    const { accessToken, refreshToken } = (await rest.call('POST', '/auth/register', { body: account })).body;
    const out = await rest.call('POST', '/auth/logout', { token: accessToken });
    expect(out).toMatchObject({ status: 200, body: { success: true } });
    expect((await rest.call('GET', '/auth/me', { token: accessToken })).status).toBe(401);
    expect((await rest.call('POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(401);
  });

  it('keeps the refresh-token form of logout, and answers success with no token at all', async () => {
    const account = newAccount('rest-refresh');
    const { accessToken, refreshToken } = (await rest.call('POST', '/auth/register', { body: account })).body;
    expect((await rest.call('POST', '/auth/logout', { body: { refreshToken } })).status).toBe(200);
    expect((await rest.call('GET', '/auth/me', { token: accessToken })).status).toBe(401);
    expect((await rest.call('POST', '/auth/logout')).status).toBe(200);
  });

  it('answers the admin user routes under /admin/users too, documented as the same operations', async () => {
    const admin = await signIn(gh, ['admin']);
    const target = await signIn(gh, ['user']);
    const token = admin.tokens.accessToken;
    const direct = await rest.call('GET', `/users/${target.user.id}`, { token });
    const aliased = await rest.call('GET', `/admin/users/${target.user.id}`, { token });
    expect(aliased).toMatchObject({ status: 200, body: direct.body });
    expect((await rest.call('GET', '/admin/users?limit=1', { token })).body.items).toHaveLength(1);
    const moved = newAccount('alias-moved').email;
    expect((await rest.call('PUT', `/admin/users/${target.user.id}`, { token, body: { email: moved, emailVerified: true } })).body).toMatchObject({ email: moved, emailVerified: true });
    expect((await rest.call('POST', `/admin/users/${target.user.id}/password-reset`, { token })).status).toBe(200);
    await mailTo(moved, 'reset-password');
    const plain = await signIn(gh, ['user']);
    expect((await rest.call('GET', `/admin/users/${target.user.id}`, { token: plain.tokens.accessToken })).status).toBe(403);

    const paths = rest.document.paths;
    for (const [path, item] of Object.entries(paths).filter(([p]) => p.startsWith('/users'))) {
      const alias = paths[`/admin${path}`];
      expect(Object.keys(alias ?? {})).toEqual(Object.keys(item));
      for (const method of Object.keys(item)) {
        const { operationId: _a, ...original } = item[method] as unknown as Record<string, unknown>;
        const { operationId: _b, ...copy } = alias![method] as unknown as Record<string, unknown>;
        expect(copy).toEqual(original);
      }
    }
    expect(paths['/users/{id}/password-reset']?.post).toBeDefined();
  });
});

describe('tRPC over HTTP', () => {
  it('answers a bad link with BAD_REQUEST and data.fieldErrors.token', async () => {
    const res = await trpcHttp(gh.url, 'auth.verifyEmail', { token: 'A'.repeat(43) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ message: 'This link is invalid or has expired', data: { code: 'BAD_REQUEST', fieldErrors: { token: ['This link is invalid or has expired'] } } });
  });

  it('ends the bearer token session on auth.logout with no input', async () => {
    const { accessToken } = (await trpcHttp(gh.url, 'auth.register', newAccount('trpc-bearer'))).body.result.data;
    const out = await trpcHttp(gh.url, 'auth.logout', undefined, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(out.status).toBe(200);
    const me = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(401);
  });
});

describe('the typed client', () => {
  it('resets a password, and signs out of its own session by bearer', async () => {
    const changes: (TokenSet | null)[] = [];
    const gatehouse = createGatehouseClient({ url: gh.url, onTokens: (tokens) => changes.push(tokens) });
    const account = newAccount('typed');
    await gatehouse.auth.register.mutate(account);
    await gatehouse.auth.requestPasswordReset.mutate({ email: account.email });
    const token = tokenOf(await mailTo(account.email, 'reset-password'));
    await gatehouse.auth.resetPassword.mutate({ token, newPassword: 'Typed-New-Secret-66' });
    const signedIn = tokensOf(await gatehouse.auth.login.mutate({ email: account.email, password: 'Typed-New-Secret-66' }));
    expect((await gatehouse.me.get.query()).id).toBe(signedIn.user.id);

    await gatehouse.auth.logout.mutate();
    expect(changes.at(-1)).toBeNull();
    const after = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${signedIn.accessToken}` } });
    expect(after.status).toBe(401);
  });
});

describe('the /account/ pages over HTTP', () => {
  it('show a form on GET without using the token, and use it on POST', async () => {
    const account = newAccount('page-verify');
    await trpcHttp(gh.url, 'auth.register', account);
    const mail = await mailTo(account.email, 'verify-email');
    for (let i = 0; i < 2; i += 1) {
      const page = await fetch(mail.link!);
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).toContain('<meta name="referrer" content="no-referrer">');
      expect(html).toContain(`value="${tokenOf(mail)}"`);
    }
    const post = (headers: Record<string, string> = {}) =>
      fetch(`${gh.url}/account/verify-email`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams({ token: tokenOf(mail) }) });
    expect((await post({ origin: 'https://evil.example' })).status).toBe(403);
    const done = await post({ origin: gh.url });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Email verified');
    const again = await post();
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('invalid or has expired');
  });

  it('refuse a reset page for a dead link, and still refuse a token in the query elsewhere', async () => {
    const dead = await fetch(`${gh.url}/account/reset-password?token=${'B'.repeat(43)}`);
    expect(dead.status).toBe(400);
    expect((await fetch(`${gh.url}/api/auth/me?token=${'B'.repeat(43)}`)).status).toBe(400);
    expect((await fetch(`${gh.url}/account/forgot-password?password=x`)).status).toBe(400);
  });

  it('accept Origin: null only on a form that carries its token', async () => {
    const form = (path: string, body: Record<string, string>) =>
      fetch(`${gh.url}/account/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'null' }, body: new URLSearchParams(body) });
    expect((await form('forgot-password', { email: 'someone@example.test' })).status).toBe(403);
    expect((await form('resend-verification', { email: 'someone@example.test' })).status).toBe(403);
    // Past the origin check: a bad token is a bad link.
    expect((await form('verify-email', { token: 'C'.repeat(43) })).status).toBe(400);
  });

  it('escape what a visitor typed', async () => {
    const res = await fetch(`${gh.url}/account/forgot-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: '"><script>alert(1)</script>', return_to: 'https://evil.example/' }),
    });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('evil.example');
  });
});

describe('EMAIL_VERIFICATION=required', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ env: { SMTP_URL: smtp.url, EMAIL_VERIFICATION: 'required' }, mail: { pollMs: 100 } });
  });
  afterAll(() => strict?.close());

  it('makes the account but refuses sign-in until the address is verified', async () => {
    const account = newAccount('strict');
    const registered = await trpcHttp(strict.url, 'auth.register', account);
    expect(registered.status).toBe(403);
    expect(registered.body.error.data).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_NOT_VERIFIED' });
    const login = await trpcHttp(strict.url, 'auth.login', account);
    expect(login.status).toBe(403);
    expect(login.body.error.data.reason).toBe('EMAIL_NOT_VERIFIED');
    const restLogin = await fetch(`${strict.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
    expect(restLogin.status).toBe(403);
    expect((await restLogin.json()).error).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_NOT_VERIFIED' });
    // A wrong password still gets the answer every failed sign-in gets.
    expect((await trpcHttp(strict.url, 'auth.login', { ...account, password: 'Wrong-Password-12' })).status).toBe(401);

    const mail = await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/verify-email' && m.link.origin === strict.url);
    await strict.caller().auth.verifyEmail({ token: tokenOf(mail) });
    expect((await trpcHttp(strict.url, 'auth.login', account)).status).toBe(200);
  });
});

describe('without SMTP_URL', () => {
  it('writes the mail, with its link, to the log', async () => {
    const dev = await startTestServer({ mail: { pollMs: 100 } });
    try {
      const account = newAccount('logged');
      await dev.caller().auth.register(account);
      await expect.poll(() => dev.logs.find((line) => line.includes(account.email) && line.includes('/account/verify-email?token='))).toBeDefined();
      const [row] = await dev.deps.database.db.select().from(mailOutbox).where(eq(mailOutbox.recipient, account.email));
      expect(row).toBeUndefined();
    } finally {
      await dev.close();
    }
  });
});

describe('two workers on one database', () => {
  it('send every message exactly once', async () => {
    const d = gh.deps;
    const worker = () =>
      createMailWorker({ db: d.database.db, mailer: d.mailer, render: loadTemplates(), config: d.config, audit: d.audit, log: d.log, metrics: d.metrics, options: { pollMs: 0 } });
    const accounts = await Promise.all(Array.from({ length: 12 }, () => signIn(gh, ['user'])));
    // Stop this instance's own worker from taking part: only the two below deliver.
    await d.mailWorker.stop();
    for (const { user } of accounts) await enqueueMail(d.database.db, { kind: 'verify-email', userId: user.id });
    const [a, b] = [worker(), worker()];
    const [claimedA, claimedB] = await Promise.all([a.deliverDue(), b.deliverDue()]);
    expect(claimedA + claimedB).toBe(12);
    for (const { account } of accounts) {
      await mailTo(account.email, 'verify-email');
      expect(smtp.mails.filter((m) => m.to === account.email)).toHaveLength(1);
    }
  });
});
