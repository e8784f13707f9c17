// Account recovery and verification end to end, against a real SMTP server: the mail arrives, its
// link carries the token, and the procedures (tRPC and REST) do what the link promises.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountTokens, authEvents, mailOutbox, users } from '../../db/schema/index.ts';
import { startSmtp, tokenOf, type TestSmtp } from '../helpers/smtp.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let smtp: TestSmtp;

beforeAll(async () => {
  smtp = await startSmtp();
  gh = await startTestServer({ env: { SMTP_URL: smtp.url }, mail: { pollMs: 100 } });
});
afterAll(async () => {
  await gh?.close();
  await smtp?.stop();
});

const db = () => gh.deps.database.db;
const anon = () => gh.caller();
const rejects = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });
const mailTo = (address: string, page: string) => smtp.mailTo(address, page);
const eventsOf = (userId: string) => db().select().from(authEvents).where(eq(authEvents.userId, userId));

/** BAD_REQUEST with the one field error every bad link gets. */
async function badLink(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: 'BAD_REQUEST', cause: { details: { fieldErrors: { token: ['This link is invalid or has expired'] } } } });
}

describe('email verification', () => {
  it('mails a link on sign-up; the token verifies the address, once', async () => {
    const account = newAccount('verify');
    const { user, accessToken } = tokensOf(await anon().auth.register({ ...account, name: 'Vera' }));
    expect(user.emailVerified).toBe(false);
    const mail = await mailTo(account.email, 'verify-email');
    expect(mail.link?.origin).toBe(gh.url);
    expect(mail.link?.pathname).toBe('/account/verify-email');
    expect(tokenOf(mail)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail.html).toContain('href="');
    expect(mail.text).toContain('Vera');

    await expect(anon().auth.verifyEmail({ token: tokenOf(mail) })).resolves.toEqual({ success: true });
    const me = await gh.caller({ authorization: `Bearer ${accessToken}` }).me.get();
    expect(me.emailVerified).toBe(true);
    await badLink(anon().auth.verifyEmail({ token: tokenOf(mail) }));
    expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(expect.arrayContaining(['email_verification_sent', 'email_verified']));
  });

  it('stores only the digest of a token, never the token', async () => {
    const account = newAccount('digest');
    const { user } = tokensOf(await anon().auth.register(account));
    const token = tokenOf(await mailTo(account.email, 'verify-email'));
    const rows = await db().select().from(accountTokens).where(eq(accountTokens.userId, user.id));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    const outbox = await db().select().from(mailOutbox).where(eq(mailOutbox.userId, user.id));
    expect(JSON.stringify(outbox)).not.toContain(token);
  });

  it('resends to the signed-in user, and a newer link voids the older one', async () => {
    const account = newAccount('resend');
    const { accessToken } = tokensOf(await anon().auth.register(account));
    const first = tokenOf(await mailTo(account.email, 'verify-email'));
    await gh.caller({ authorization: `Bearer ${accessToken}` }).auth.resendVerification();
    const second = await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/verify-email' && tokenOf(m) !== first);
    await badLink(anon().auth.verifyEmail({ token: first }));
    await expect(anon().auth.verifyEmail({ token: tokenOf(second) })).resolves.toEqual({ success: true });
  });

  it('refuses a resend with neither a bearer nor an address', async () => {
    await rejects(anon().auth.resendVerification(), 'UNAUTHORIZED');
  });

  it('answers tampered, malformed and other-kind tokens alike, and changes nothing', async () => {
    const account = newAccount('tamper');
    const { user } = tokensOf(await anon().auth.register(account));
    const token = tokenOf(await mailTo(account.email, 'verify-email'));
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    await badLink(anon().auth.verifyEmail({ token: flipped }));
    await badLink(anon().auth.verifyEmail({ token: 'not a token' }));
    // A verification token is no reset token.
    await badLink(anon().auth.resetPassword({ token, newPassword: 'Another-Long-Secret-42' }));
    const [row] = await db().select().from(users).where(eq(users.id, user.id));
    expect(row?.emailVerified).toBe(false);
    await expect(anon().auth.verifyEmail({ token })).resolves.toEqual({ success: true });
  });

  it('answers an expired token as a bad one', async () => {
    const account = newAccount('expired');
    const { user } = tokensOf(await anon().auth.register(account));
    const token = tokenOf(await mailTo(account.email, 'verify-email'));
    await db().update(accountTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(accountTokens.userId, user.id));
    await badLink(anon().auth.verifyEmail({ token }));
  });
});

describe('password reset', () => {
  it('mails a reset link; the new password works, the old one and every session end', async () => {
    const account = newAccount('reset');
    const { user, refreshToken, accessToken } = tokensOf(await anon().auth.register(account));
    await expect(anon().auth.requestPasswordReset({ email: account.email.toUpperCase() })).resolves.toEqual({ success: true });
    const mail = await mailTo(account.email, 'reset-password');
    expect(mail.link?.pathname).toBe('/account/reset-password');

    const newPassword = 'Brand-New-Secret-77';
    await expect(anon().auth.resetPassword({ token: tokenOf(mail), newPassword })).resolves.toEqual({ success: true });
    await rejects(anon().auth.refresh({ refreshToken }), 'UNAUTHORIZED');
    await rejects(gh.caller({ authorization: `Bearer ${accessToken}` }).me.get(), 'UNAUTHORIZED');
    await rejects(anon().auth.login(account), 'UNAUTHORIZED');
    const again = tokensOf(await anon().auth.login({ email: account.email, password: newPassword }));
    // The link went to the address: it is proven too.
    expect(again.user.emailVerified).toBe(true);
    await badLink(anon().auth.resetPassword({ token: tokenOf(mail), newPassword: 'Yet-Another-Secret-88' }));
    const types = (await eventsOf(user.id)).map((e) => e.type);
    expect(types).toContain('password_reset');
  });

  it('answers a known and an unknown address alike, doing the same work for both', async () => {
    const account = newAccount('known');
    await anon().auth.register(account);
    const unknown = `nobody.${Date.now()}@example.test`;
    const known = await trpcHttp(gh.url, 'auth.requestPasswordReset', { email: account.email });
    const stranger = await trpcHttp(gh.url, 'auth.requestPasswordReset', { email: unknown });
    expect(stranger.status).toBe(known.status);
    expect(stranger.body).toEqual(known.body);
    for (const header of ['content-type', 'content-length', 'cache-control', 'retry-after']) expect(stranger.headers.get(header)).toBe(known.headers.get(header));
    // The request writes the same row for both; only the worker, later, looks the address up.
    const rows = await db().select().from(mailOutbox).where(eq(mailOutbox.kind, 'password-reset'));
    const written = (address: string) => rows.find((r) => r.recipient === address);
    const shape = (row: typeof rows[number] | undefined) => row && { kind: row.kind, userId: row.userId, payload: row.payload };
    expect(shape(written(unknown))).toEqual(shape(written(account.email)));
    await mailTo(account.email, 'reset-password');
    await expect.poll(async () => (await db().select().from(mailOutbox).where(eq(mailOutbox.recipient, unknown)))[0]?.status).toBe('dropped');
    expect(smtp.mails.some((m) => m.to === unknown)).toBe(false);
  });

  it('voids a link once a newer one is sent, or the password changes', async () => {
    const account = newAccount('void');
    const { accessToken } = tokensOf(await anon().auth.register(account));
    await anon().auth.requestPasswordReset({ email: account.email });
    const first = tokenOf(await mailTo(account.email, 'reset-password'));
    await anon().auth.requestPasswordReset({ email: account.email });
    const second = tokenOf(await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/reset-password' && tokenOf(m) !== first));
    await badLink(anon().auth.resetPassword({ token: first, newPassword: 'Brand-New-Secret-78' }));

    await gh.caller({ authorization: `Bearer ${accessToken}` }).me.changePassword({ currentPassword: account.password, newPassword: 'Changed-By-Hand-79' });
    await badLink(anon().auth.resetPassword({ token: second, newPassword: 'Brand-New-Secret-80' }));
  });

  it('refuses a weak new password under the policy and leaves the link usable', async () => {
    const account = newAccount('weak');
    await anon().auth.register(account);
    await anon().auth.requestPasswordReset({ email: account.email });
    const token = tokenOf(await mailTo(account.email, 'reset-password'));
    await expect(anon().auth.resetPassword({ token, newPassword: 'password' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(anon().auth.resetPassword({ token, newPassword: 'Strong-Enough-Secret-81' })).resolves.toEqual({ success: true });
  });

  it('is limited per address', async () => {
    const email = `limited.${Date.now()}@example.test`;
    for (let i = 0; i < 5; i += 1) await anon().auth.requestPasswordReset({ email });
    await rejects(anon().auth.requestPasswordReset({ email }), 'TOO_MANY_REQUESTS');
  });
});

describe('email change', () => {
  it('mails the new address a link and the old one a notice; the address moves when the link is used', async () => {
    const account = newAccount('mover');
    const { accessToken, user } = tokensOf(await anon().auth.register(account));
    const me = gh.caller({ authorization: `Bearer ${accessToken}` });
    const newEmail = newAccount('moved').email;
    await rejects(me.me.changeEmail({ newEmail, currentPassword: 'Wrong-Password-1' }), 'BAD_REQUEST');
    await expect(me.me.changeEmail({ newEmail, currentPassword: account.password })).resolves.toEqual({ success: true });
    const confirm = await mailTo(newEmail, 'confirm-email');
    const notice = await smtp.waitFor((m) => m.to === account.email && m.text.includes(newEmail));
    expect(notice.text).not.toMatch(/token=/);
    expect((await me.me.get()).email).toBe(account.email);

    await expect(anon().auth.confirmEmailChange({ token: tokenOf(confirm) })).resolves.toEqual({ success: true });
    // The session stays; the account has the new, verified address.
    const after = await me.me.get();
    expect(after).toMatchObject({ email: newEmail, emailVerified: true });
    await anon().auth.login({ email: newEmail, password: account.password });
    expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(expect.arrayContaining(['email_change_requested', 'email_changed']));
  });

  it('refuses an address in use, and answers CONFLICT when it was taken meanwhile', async () => {
    const account = newAccount('race');
    const { accessToken } = tokensOf(await anon().auth.register(account));
    const me = gh.caller({ authorization: `Bearer ${accessToken}` });
    const other = newAccount('taken');
    await anon().auth.register(other);
    await rejects(me.me.changeEmail({ newEmail: other.email, currentPassword: account.password }), 'CONFLICT');

    const wanted = newAccount('wanted');
    await me.me.changeEmail({ newEmail: wanted.email, currentPassword: account.password });
    const token = tokenOf(await mailTo(wanted.email, 'confirm-email'));
    await anon().auth.register(wanted);
    await rejects(anon().auth.confirmEmailChange({ token }), 'CONFLICT');
    expect((await me.me.get()).email).toBe(account.email);
  });
});

describe('admin', () => {
  it('sets email and emailVerified, and sends a reset', async () => {
    const admin = await signIn(gh, ['admin']);
    const target = await signIn(gh, ['user']);
    const moved = newAccount('admin-moved').email;
    const updated = await admin.caller.admin.users.update({ id: target.user.id, email: moved });
    expect(updated).toMatchObject({ email: moved, emailVerified: false });
    const verified = await admin.caller.admin.users.update({ id: target.user.id, emailVerified: true });
    expect(verified.emailVerified).toBe(true);
    await rejects(admin.caller.admin.users.update({ id: target.user.id, email: admin.account.email }), 'CONFLICT');

    await expect(admin.caller.admin.users.sendPasswordReset({ id: target.user.id })).resolves.toEqual({ success: true });
    const mail = await mailTo(moved, 'reset-password');
    await anon().auth.resetPassword({ token: tokenOf(mail), newPassword: 'Admin-Sent-Secret-91' });
    await anon().auth.login({ email: moved, password: 'Admin-Sent-Secret-91' });
    const plain = await signIn(gh, ['user']);
    await rejects(plain.caller.admin.users.sendPasswordReset({ id: admin.user.id }), 'FORBIDDEN');
  });
});

describe('mail headers', () => {
  it('cannot be injected through a name with CR/LF', async () => {
    const account = newAccount('inject');
    const bcc = `victim.${Date.now()}@example.test`;
    await anon().auth.register({ ...account, name: `Eve\r\nBcc: ${bcc}\r\nSubject: pwned` });
    const mail = await mailTo(account.email, 'verify-email');
    expect(mail.to).toBe(account.email);
    expect(mail.headers).not.toMatch(/^Bcc:/im);
    expect(mail.headers.match(/^Subject:/gim)).toHaveLength(1);
    expect(mail.parsed.bcc).toBeUndefined();
    expect(smtp.mails.some((m) => m.to.includes(bcc))).toBe(false);
  });
});

describe('the outbox', () => {
  it('keeps a message pending while the SMTP server is down, and delivers it once it is back', async () => {
    const account = newAccount('outage');
    await smtp.stop();
    try {
      const { user } = tokensOf(await anon().auth.register(account));
      await expect
        .poll(async () => (await db().select().from(mailOutbox).where(eq(mailOutbox.userId, user.id)))[0], { timeout: 10_000 })
        .toMatchObject({ status: 'pending', attempts: 1, lastError: expect.any(String) });
      const [row] = await db().select().from(mailOutbox).where(eq(mailOutbox.userId, user.id));
      // Due now: the backoff is not what this test waits for.
      await db().update(mailOutbox).set({ nextAttemptAt: new Date() }).where(eq(mailOutbox.id, row!.id));
    } finally {
      await smtp.restart();
    }
    await mailTo(account.email, 'verify-email');
    const delivered = await db().select().from(mailOutbox).where(and(eq(mailOutbox.recipient, account.email)));
    expect(smtp.mails.filter((m) => m.to === account.email)).toHaveLength(1);
    expect(delivered.every((r) => r.status !== 'failed')).toBe(true);
  });
});
