// What an attacker would send against account recovery, from a security review of it, over HTTP.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountTokens, users } from '../../db/schema/index.ts';
import { restClient, type RestClient } from '../helpers/openapi.ts';
import { startSmtp, tokenOf, type TestSmtp } from '../helpers/smtp.ts';
import { newAccount, signIn, startTestServer, tokensOf, type TestServer } from '../helpers/server.ts';

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

describe('an admin with users:write only', () => {
  it('cannot move an admin to an address of its own, and so cannot reset its password', async () => {
    const root = await signIn(gh, ['admin']);
    const role = await root.caller.admin.roles.create({ name: `support-${Date.now()}`, permissions: ['users:read', 'users:write'] });
    const support = await signIn(gh, [role.name]);
    const victim = await signIn(gh, ['admin']);
    const attacker = newAccount('takeover').email;
    const moved = await rest.call('PUT', `/admin/users/${victim.user.id}`, { token: support.tokens.accessToken, body: { email: attacker } });
    expect(moved.status).toBe(403);
    expect((await rest.call('PUT', `/users/${victim.user.id}`, { token: support.tokens.accessToken, body: { emailVerified: true } })).status).toBe(403);
    expect((await rest.call('GET', `/users/${victim.user.id}`, { token: root.tokens.accessToken })).body.email).toBe(victim.account.email);
    // A plain user's address it may still change; that user's sessions end with it.
    const plain = await signIn(gh, ['user']);
    expect((await rest.call('PUT', `/users/${plain.user.id}`, { token: support.tokens.accessToken, body: { email: newAccount('moved').email } })).status).toBe(200);
    expect((await rest.call('GET', '/auth/me', { token: plain.tokens.accessToken })).status).toBe(401);
  });
});

describe('an email-change link', () => {
  it('dies when the password is reset, so a thief who asked for it cannot use it after', async () => {
    const victim = newAccount('victim');
    const { accessToken } = (await rest.call('POST', '/auth/register', { body: victim })).body;
    const thief = newAccount('thief').email;
    expect((await rest.call('POST', '/auth/change-email', { token: accessToken, body: { newEmail: thief, currentPassword: victim.password } })).status).toBe(200);
    const stolen = tokenOf(await mailTo(thief, 'confirm-email'));

    await rest.call('POST', '/auth/password-reset/request', { body: { email: victim.email } });
    const reset = tokenOf(await mailTo(victim.email, 'reset-password'));
    expect((await rest.call('POST', '/auth/password-reset', { body: { token: reset, newPassword: 'Locked-Out-Thief-73' } })).status).toBe(200);
    const used = await rest.call('POST', '/auth/confirm-email-change', { body: { token: stolen } });
    expect(used.status).toBe(400);
    expect(used.body.error.fieldErrors).toEqual({ token: ['This link is invalid or has expired'] });
  });

  it('dies when the password is changed', async () => {
    const victim = newAccount('victim2');
    const { accessToken } = (await rest.call('POST', '/auth/register', { body: victim })).body;
    const thief = newAccount('thief2').email;
    await rest.call('POST', '/auth/change-email', { token: accessToken, body: { newEmail: thief, currentPassword: victim.password } });
    const stolen = tokenOf(await mailTo(thief, 'confirm-email'));
    expect((await rest.call('POST', '/auth/change-password', { token: accessToken, body: { currentPassword: victim.password, newPassword: 'Changed-Again-Secret-74' } })).status).toBe(200);
    expect((await rest.call('POST', '/auth/confirm-email-change', { body: { token: stolen } })).status).toBe(400);
  });
});

describe('me.changeEmail', () => {
  it('is limited per account, however many requests succeed', async () => {
    const account = newAccount('cannon');
    const { accessToken } = (await rest.call('POST', '/auth/register', { body: account })).body;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      statuses.push((await rest.call('POST', '/auth/change-email', { token: accessToken, body: { newEmail: newAccount('target').email, currentPassword: account.password } })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });
});

describe('a reset link', () => {
  it('works only for the address it was sent to', async () => {
    const account = newAccount('addr');
    const { user, accessToken } = (await rest.call('POST', '/auth/register', { body: account })).body;
    await rest.call('POST', '/auth/password-reset/request', { body: { email: account.email } });
    const token = tokenOf(await mailTo(account.email, 'reset-password'));
    // As if the address had changed between the worker's read and the token's insert.
    await gh.deps.database.db.update(accountTokens).set({ email: 'old@example.test' }).where(eq(accountTokens.userId, user.id));
    expect((await rest.call('POST', '/auth/password-reset', { body: { token, newPassword: 'Old-Address-Secret-75' } })).status).toBe(400);
    expect((await rest.call('GET', '/auth/me', { token: accessToken })).status).toBe(200);
  });
});

describe('EMAIL_VERIFICATION=required', () => {
  it('refuses a refresh of a session whose address is no longer verified', async () => {
    const strict = await startTestServer({ env: { SMTP_URL: smtp.url, EMAIL_VERIFICATION: 'required' }, mail: { pollMs: 100 } });
    try {
      const account = newAccount('strict-refresh');
      await strict.caller().auth.register(account).catch(() => undefined);
      const mail = await smtp.waitFor((m) => m.to === account.email && m.link?.origin === strict.url);
      await strict.caller().auth.verifyEmail({ token: tokenOf(mail) });
      const { refreshToken, user } = tokensOf(await strict.caller().auth.login(account));
      await strict.deps.database.db.update(users).set({ emailVerified: false }).where(eq(users.id, user.id));
      await expect(strict.caller().auth.refresh({ refreshToken })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    } finally {
      await strict.close();
    }
  });
});
