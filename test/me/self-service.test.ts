// Self-service: profile, password change, sessions; through createCaller, as the frontends call them.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, users } from '../../db/schema/index.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
});
afterAll(() => gh?.close());

const rejects = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });

describe('me.update', () => {
  it('updates the profile and returns it', async () => {
    const { caller } = await signIn(gh);
    const updated = await caller.me.update({ name: 'Grace Hopper', givenName: 'Grace', familyName: 'Hopper', picture: 'https://example.com/g.png', locale: 'en-US', zoneinfo: 'America/New_York' });
    expect(updated).toMatchObject({ name: 'Grace Hopper', givenName: 'Grace', familyName: 'Hopper', picture: 'https://example.com/g.png', locale: 'en-US', zoneinfo: 'America/New_York' });
    // me.get reads the user through the signed-in lookup (a database function that returns the
    // row as JSON): each field must come back under its own name, with its own type.
    expect(await caller.me.get()).toEqual(updated);
    const cleared = await caller.me.update({ picture: null });
    expect(cleared.picture).toBeNull();
    expect(cleared.name).toBe('Grace Hopper');
  });

  it('refuses mass assignment: roles, isActive, email, emailVerified, id', async () => {
    const { caller, user } = await signIn(gh);
    for (const attempt of [{ roles: ['admin'] }, { isActive: false }, { emailVerified: true }, { email: 'x@example.com' }, { id: crypto.randomUUID() }, { passwordHash: 'x' }]) {
      await rejects(caller.me.update(attempt as never), 'BAD_REQUEST');
    }
    const [row] = await gh.deps.database.db.select().from(users).where(eq(users.id, user.id));
    expect(row).toMatchObject({ emailVerified: false, isActive: true, email: user.email });
    expect((await caller.me.get()).roles).toEqual(['user']);
  });

  it('validates the profile fields', async () => {
    const { caller } = await signIn(gh);
    await rejects(caller.me.update({ picture: 'http://insecure.example.com/x.png' }), 'BAD_REQUEST');
    await rejects(caller.me.update({ zoneinfo: 'Mars/Olympus' }), 'BAD_REQUEST');
    await rejects(caller.me.update({ locale: 'not a locale' }), 'BAD_REQUEST');
    await rejects(caller.me.update({ name: 'x'.repeat(201) }), 'BAD_REQUEST');
  });

  it('only ever touches the caller: user A cannot reach user B', async () => {
    const a = await signIn(gh);
    const b = await signIn(gh);
    await a.caller.me.update({ name: 'A' });
    expect((await b.caller.me.get()).name).toBeNull();
    // B's session ids are unknown to A.
    const [bSession] = await b.caller.me.sessions.list();
    await rejects(a.caller.me.sessions.revoke({ id: bSession!.id }), 'NOT_FOUND');
    expect(await b.caller.me.sessions.list()).toHaveLength(1);
  });
});

describe('me.changePassword', () => {
  it('requires the current password, applies the policy, and ends every other session', async () => {
    const account = newAccount();
    const first = await signIn(gh, ['user'], account);
    const second = tokensOf(await gh.caller().auth.login(account));
    const secondCaller = gh.caller({ authorization: `Bearer ${second.accessToken}` });

    await rejects(first.caller.me.changePassword({ currentPassword: 'Wrong-Password-1', newPassword: 'Brand-New-Secret-42' }), 'BAD_REQUEST');
    await rejects(first.caller.me.changePassword({ currentPassword: account.password, newPassword: 'weak' }), 'BAD_REQUEST');
    await rejects(first.caller.me.changePassword({ currentPassword: account.password, newPassword: account.password }), 'BAD_REQUEST');
    // Nothing changed so far: the other session still works.
    await expect(secondCaller.me.get()).resolves.toMatchObject({ id: first.user.id });

    await expect(first.caller.me.changePassword({ currentPassword: account.password, newPassword: 'Brand-New-Secret-42' })).resolves.toEqual({ success: true });
    // The other session is gone: its access and refresh tokens both.
    await rejects(secondCaller.me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: second.refreshToken }), 'UNAUTHORIZED');
    // The caller's own session survives.
    await expect(first.caller.me.get()).resolves.toMatchObject({ id: first.user.id });
    await expect(gh.caller().auth.refresh({ refreshToken: first.tokens.refreshToken })).resolves.toMatchObject({ tokenType: 'Bearer' });
    // Old password out, new one in.
    await rejects(gh.caller().auth.login(account), 'UNAUTHORIZED');
    await expect(gh.caller().auth.login({ ...account, password: 'Brand-New-Secret-42' })).resolves.toMatchObject({ tokenType: 'Bearer' });

    const events = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, first.user.id));
    expect(events.filter((e) => e.type === 'password_changed').map((e) => e.success).sort()).toEqual([false, true]);
  });

  it('puts the reason in fieldErrors over HTTP', async () => {
    const { account, authorization } = await signIn(gh);
    const res = await trpcHttp(gh.url, 'me.changePassword', { currentPassword: account.password, newPassword: 'alllowercase' }, { headers: { authorization } });
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors.newPassword.length).toBeGreaterThan(0);
    const wrong = await trpcHttp(gh.url, 'me.changePassword', { currentPassword: 'Nope-Nope-123', newPassword: 'Brand-New-Secret-42' }, { headers: { authorization } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.data.fieldErrors).toEqual({ currentPassword: ['Incorrect password'] });
  });
});

describe('me.changePassword limits', () => {
  it('refuses further attempts after five wrong current passwords, with retryAfterSeconds', async () => {
    const { caller, account } = await signIn(gh);
    for (let i = 0; i < 5; i += 1) await rejects(caller.me.changePassword({ currentPassword: `Wrong-Current-${i}`, newPassword: 'Brand-New-Secret-42' }), 'BAD_REQUEST');
    const refused = caller.me.changePassword({ currentPassword: account.password, newPassword: 'Brand-New-Secret-42' });
    await expect(refused).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await expect(refused).rejects.toSatisfy((e: { cause?: { details?: { retryAfterSeconds?: number } } }) => (e.cause?.details?.retryAfterSeconds ?? 0) > 0);
    // The password did not change.
    await expect(gh.caller().auth.login(account)).resolves.toBeTruthy();
  });
});

describe('me.sessions', () => {
  it('lists sessions with where they came from and which is current', async () => {
    const account = newAccount();
    const phone = { ip: '198.51.100.20', userAgent: 'Phone/1.0' };
    const laptop = await signIn(gh, ['user'], account, { ip: '198.51.100.10', userAgent: 'Laptop/1.0' });
    await gh.caller({ meta: phone }).auth.login(account);
    const list = await laptop.caller.me.sessions.list();
    expect(list).toHaveLength(2);
    const current = list.find((s) => s.current);
    expect(current).toMatchObject({ ip: '198.51.100.10', userAgent: 'Laptop/1.0' });
    expect(list.find((s) => !s.current)).toMatchObject({ ip: '198.51.100.20', userAgent: 'Phone/1.0' });
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent']);
      expect(new Date(s.lastUsedAt).getTime()).toBeGreaterThanOrEqual(new Date(s.createdAt).getTime());
    }
  });

  it('moves lastUsedAt on refresh', async () => {
    const { caller, tokens } = await signIn(gh);
    const [before] = await caller.me.sessions.list();
    await new Promise((r) => setTimeout(r, 20));
    await gh.caller().auth.refresh({ refreshToken: tokens.refreshToken });
    const [after] = await caller.me.sessions.list();
    expect(new Date(after!.lastUsedAt).getTime()).toBeGreaterThan(new Date(before!.lastUsedAt).getTime());
  });

  it('revokes one session: its tokens stop working, the others keep going', async () => {
    const account = newAccount();
    const keep = await signIn(gh, ['user'], account);
    const other = tokensOf(await gh.caller().auth.login(account));
    const otherCaller = gh.caller({ authorization: `Bearer ${other.accessToken}` });
    const target = (await keep.caller.me.sessions.list()).find((s) => !s.current)!;
    await expect(keep.caller.me.sessions.revoke({ id: target.id })).resolves.toEqual({ success: true });
    await rejects(otherCaller.me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: other.refreshToken }), 'UNAUTHORIZED');
    await expect(keep.caller.me.get()).resolves.toBeTruthy();
    expect(await keep.caller.me.sessions.list()).toHaveLength(1);
    await rejects(keep.caller.me.sessions.revoke({ id: target.id }), 'NOT_FOUND');
    await rejects(keep.caller.me.sessions.revoke({ id: 'short' }), 'BAD_REQUEST');
  });

  it('auth.logoutAll ends every session of the caller, its own included', async () => {
    const account = newAccount();
    const a = await signIn(gh, ['user'], account);
    const b = tokensOf(await gh.caller().auth.login(account));
    await expect(a.caller.auth.logoutAll()).resolves.toEqual({ success: true });
    await rejects(a.caller.me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller({ authorization: `Bearer ${b.accessToken}` }).me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: a.tokens.refreshToken }), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: b.refreshToken }), 'UNAUTHORIZED');
    // Signing in again still works.
    await expect(gh.caller().auth.login(account)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});
