// The second factor over HTTP: enrolment, sign-in with a TOTP code or a recovery code, what an attacker
// with the password can and cannot do with a challenge, turning it off, and the admin's reset.
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, mfaChallenges, mfaRecoveryCodes, users } from '../../db/schema/index.ts';
import { digest } from '../../server/common/digest.ts';
import { issueToken } from '../../server/services/account-tokens.ts';
import { operator } from '../../server/services/rbac.ts';
import { newAccount, signIn, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';
import { nextCode, wrongCode, expiredCode } from '../helpers/totp.ts';

const INVALID = 'Invalid or expired code';

let gh: TestServer;
beforeAll(async () => {
  // Generous code limits: these tests send many wrong codes on purpose; the limits have their own block.
  gh = await startTestServer({ rateLimits: { mfa_account_ip: { points: 1000 }, mfa_account: { points: 1000 }, mfa_ip: { points: 1000 } } });
});
afterAll(async () => {
  await gh?.close();
});

const call = (path: string, input: unknown, authorization?: string) => trpcHttp(gh.url, path, input, authorization ? { headers: { authorization } } : {});
const data = (response: { body: any }) => response.body.result?.data;
const fieldErrors = (response: { body: any }) => response.body.error?.data?.fieldErrors;

/** A signed-in user who has turned TOTP on: the secret and recovery codes as the app and the user keep them. */
async function enrolled(roles: string[] = ['user']) {
  const session = await signIn(gh, roles);
  const begun = await call('me.mfa.totp.begin', {}, session.authorization);
  expect(begun.status).toBe(200);
  const { secret } = data(begun);
  const confirmed = await call('me.mfa.totp.confirm', { code: await nextCode(secret) }, session.authorization);
  expect(confirmed.status).toBe(200);
  return { ...session, secret: secret as string, recoveryCodes: data(confirmed).recoveryCodes as string[] };
}

async function challenge(account: { email: string; password: string }): Promise<string> {
  const login = await call('auth.login', account);
  expect(login.status).toBe(200);
  expect(data(login)).toMatchObject({ mfaRequired: true });
  return data(login).mfaToken;
}

async function eventsOf(userId: string, type: string) {
  return gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, userId)).then((rows) => rows.filter((row) => row.type === type));
}

describe('enrolment', () => {
  it('hands out a secret, an otpauth URL and a QR code, and turns on only with a right code', async () => {
    const { authorization, user } = await signIn(gh);
    const begun = await call('me.mfa.totp.begin', {}, authorization);
    expect(begun.status).toBe(200);
    const { secret, otpauthUrl, qrSvg } = data(begun);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(otpauthUrl);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('issuer')).toBe(new URL(gh.url).host);
    expect(decodeURIComponent(url.pathname)).toContain(user.email);
    expect(qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    const wrong = await call('me.mfa.totp.confirm', { code: wrongCode(secret) }, authorization);
    expect(wrong.status).toBe(400);
    expect(fieldErrors(wrong)).toEqual({ code: ['That code is not right'] });
    expect(data(await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization } })).mfaEnabled).toBe(false);

    const confirmed = await call('me.mfa.totp.confirm', { code: await nextCode(secret) }, authorization);
    expect(confirmed.status).toBe(200);
    const { recoveryCodes } = data(confirmed);
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect(new Set(recoveryCodes).size).toBe(10);
    const me = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization } });
    expect(data(me).mfaEnabled).toBe(true);
    expect(await eventsOf(user.id, 'mfa_enabled')).toHaveLength(1);
    expect(await eventsOf(user.id, 'mfa_failed')).toHaveLength(1);
  });

  it('refuses a second enrolment while the factor is on, and a confirm with nothing begun', async () => {
    const { authorization, secret } = await enrolled();
    const again = await call('me.mfa.totp.begin', {}, authorization);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe('A second factor is already on: turn it off first');

    const fresh = await signIn(gh);
    const early = await call('me.mfa.totp.confirm', { code: await nextCode(secret) }, fresh.authorization);
    expect(early.status).toBe(400);
    expect(early.body.error.message).toMatch(/Start enrolment first/);
  });

  it('stores the secret sealed, the recovery codes and challenges as digests: a dump reveals none of them', async () => {
    const { user, secret, recoveryCodes, account } = await enrolled();
    const mfaToken = await challenge(account);
    const [row] = await gh.deps.database.db.select().from(users).where(eq(users.id, user.id));
    const raw = Buffer.from(secret.replace(/=+$/, ''), 'ascii');
    expect(row!.totpSecret).toMatch(/^v1\./);
    const dump = JSON.stringify(
      await Promise.all([
        gh.deps.database.db.select().from(users).where(eq(users.id, user.id)),
        gh.deps.database.db.select().from(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, user.id)),
        gh.deps.database.db.select().from(mfaChallenges).where(eq(mfaChallenges.userId, user.id)),
        gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, user.id)),
      ]),
    );
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(raw.toString());
    for (const code of recoveryCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace('-', ''));
    }
    expect(dump).not.toContain(mfaToken);
    expect(dump).toContain(digest(mfaToken));
  });

  it('does not open a sealed secret copied onto another account', async () => {
    const victim = await enrolled();
    const attacker = await enrolled();
    const [row] = await gh.deps.database.db.select().from(users).where(eq(users.id, victim.user.id));
    // Someone with write access to the table moves the victim's sealed secret onto their own row.
    await gh.deps.database.db.update(users).set({ totpSecret: row!.totpSecret }).where(eq(users.id, attacker.user.id));
    const mfaToken = await challenge(attacker.account);
    const response = await call('auth.verifyMfa', { mfaToken, code: await nextCode(victim.secret) });
    // The service cannot check the code: it says so, and signs no one in.
    expect(response.status).toBe(503);
    expect(data(response)).toBeUndefined();
  });
});

describe('sign-in with a second factor', () => {
  it('answers a challenge instead of tokens, then tokens with amr pwd+otp for the right code', async () => {
    const { account, secret, user } = await enrolled();
    const login = await call('auth.login', account);
    expect(login.status).toBe(200);
    expect(data(login)).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery_code'] });

    const verified = await call('auth.verifyMfa', { mfaToken: data(login).mfaToken, code: await nextCode(secret) });
    expect(verified.status).toBe(200);
    const tokens = data(verified);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', user: { id: user.id, mfaEnabled: true } });
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: user.id, amr: ['pwd', 'otp'], acr: 'urn:gatehouse:acr:mfa' });

    // The methods stay with the session through every refresh.
    const refreshed = await call('auth.refresh', { refreshToken: tokens.refreshToken });
    expect(decodeJwt(data(refreshed).accessToken)).toMatchObject({ amr: ['pwd', 'otp'] });
    const logins = await eventsOf(user.id, 'login');
    expect(logins.at(-1)?.metadata).toMatchObject({ factor: 'pwd+totp' });
  });

  it('keeps amr pwd for an account without a factor, and counts sign-ins by factor', async () => {
    const { tokens } = await signIn(gh);
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ amr: ['pwd'], acr: 'urn:gatehouse:acr:pwd' });
    const metrics = await (await fetch(`${gh.url}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_logins_by_factor_total\{factor="pwd"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_logins_by_factor_total\{factor="pwd\+totp"\} [1-9]/);
  });

  it('signs in with a recovery code once, in any case and with or without the dash', async () => {
    const { account, recoveryCodes, user } = await enrolled();
    const [first, second] = recoveryCodes as [string, string];
    const used = await call('auth.verifyMfa', { mfaToken: await challenge(account), recoveryCode: first.toUpperCase() });
    expect(used.status).toBe(200);
    expect(decodeJwt(data(used).accessToken)).toMatchObject({ amr: ['pwd', 'otp'] });
    expect(await eventsOf(user.id, 'mfa_recovery_used')).toHaveLength(1);

    const again = await call('auth.verifyMfa', { mfaToken: await challenge(account), recoveryCode: first });
    expect(again.status).toBe(401);
    expect(again.body.error.message).toBe(INVALID);
    const undashed = await call('auth.verifyMfa', { mfaToken: await challenge(account), recoveryCode: second.replace('-', '') });
    expect(undashed.status).toBe(200);
  });

  it('never accepts a TOTP code twice, even on a new challenge', async () => {
    const { account, secret } = await enrolled();
    const code = await nextCode(secret);
    expect((await call('auth.verifyMfa', { mfaToken: await challenge(account), code })).status).toBe(200);
    const replay = await call('auth.verifyMfa', { mfaToken: await challenge(account), code });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toBe(INVALID);
  });

  it('refuses two requests racing with one code: exactly one gets tokens', async () => {
    const { account, secret } = await enrolled();
    const code = await nextCode(secret);
    const [a, b] = await Promise.all([challenge(account), challenge(account)]);
    const answers = await Promise.all([call('auth.verifyMfa', { mfaToken: a, code }), call('auth.verifyMfa', { mfaToken: b, code })]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('uses a challenge once', async () => {
    const { account, secret } = await enrolled();
    const mfaToken = await challenge(account);
    expect((await call('auth.verifyMfa', { mfaToken, code: await nextCode(secret) })).status).toBe(200);
    const twice = await call('auth.verifyMfa', { mfaToken, code: await nextCode(secret) });
    expect(twice.status).toBe(401);
    expect(twice.body.error.message).toBe(INVALID);
  });

  it('allows 5 wrong codes per challenge; after that even the right code needs a new sign-in', async () => {
    const { account, secret, user } = await enrolled();
    const mfaToken = await challenge(account);
    for (let i = 0; i < 5; i++) {
      const wrong = await call('auth.verifyMfa', { mfaToken, code: wrongCode(secret) });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.message).toBe(INVALID);
    }
    const right = await call('auth.verifyMfa', { mfaToken, code: await nextCode(secret) });
    expect(right.status).toBe(401);
    expect(right.body.error.message).toBe(INVALID);
    expect(await eventsOf(user.id, 'mfa_failed')).toHaveLength(5);
    // A new sign-in opens a new challenge.
    expect((await call('auth.verifyMfa', { mfaToken: await challenge(account), code: await nextCode(secret) })).status).toBe(200);
  });

  it('answers an expired challenge, a code outside the window and an unknown token as it answers a wrong code', async () => {
    const { account, secret } = await enrolled();
    const mfaToken = await challenge(account);
    await gh.deps.database.db.update(mfaChallenges).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(mfaChallenges.id, digest(mfaToken)));
    const answers = await Promise.all([
      call('auth.verifyMfa', { mfaToken, code: await nextCode(secret) }),
      call('auth.verifyMfa', { mfaToken: await challenge(account), code: expiredCode(secret) }),
      call('auth.verifyMfa', { mfaToken: 'not-a-challenge-at-all-0123456789', code: '123456' }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body.error.message).toBe(INVALID);
    }
  });

  it("does not let one account's code answer another account's challenge", async () => {
    const victim = await enrolled();
    const attacker = await enrolled();
    const response = await call('auth.verifyMfa', { mfaToken: await challenge(victim.account), code: await nextCode(attacker.secret) });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toBe(INVALID);
  });

  it('refuses malformed codes with a field error, and they cost the challenge nothing', async () => {
    const { account, secret } = await enrolled();
    const mfaToken = await challenge(account);
    const cases: [unknown, string][] = [
      [{ mfaToken, code: '12345' }, 'code'],
      [{ mfaToken, code: '1234567' }, 'code'],
      [{ mfaToken, code: 'abcdef' }, 'code'],
      [{ mfaToken, recoveryCode: 'not!a!code' }, 'recoveryCode'],
      [{ mfaToken, code: '123456', recoveryCode: 'abcde-23456' }, 'code'],
      [{ mfaToken }, 'code'],
      [{ code: '123456' }, 'mfaToken'],
      [{ mfaToken, code: '123456', extra: true }, ''],
    ];
    for (const [input, field] of cases) {
      const response = await call('auth.verifyMfa', input);
      expect(response.status, JSON.stringify(input)).toBe(400);
      if (field) expect(Object.keys(fieldErrors(response) ?? {}), JSON.stringify(input)).toContain(field);
    }
    const [row] = await gh.deps.database.db.select().from(mfaChallenges).where(eq(mfaChallenges.id, digest(mfaToken)));
    expect(row?.failedAttempts).toBe(0);
    expect((await call('auth.verifyMfa', { mfaToken, code: await nextCode(secret) })).status).toBe(200);
  });

  it('answers no input with a 5xx (property-based)', async () => {
    const { account } = await enrolled();
    const mfaToken = await challenge(account);
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\d{0,8}$/), fc.stringMatching(/^[A-Za-z2-9-]{0,14}$/), fc.constant(mfaToken));
    await fc.assert(
      fc.asyncProperty(fc.record({ mfaToken: fc.oneof(text, fc.integer(), fc.constant(null)), code: fc.option(text, { nil: undefined }), recoveryCode: fc.option(text, { nil: undefined }) }, { requiredKeys: [] }), async (input) => {
        const response = await call('auth.verifyMfa', input);
        expect([400, 401, 429]).toContain(response.status);
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\d{0,8}$/)), async (code) => {
        const begin = await signIn(gh);
        const response = await call('me.mfa.totp.confirm', { code }, begin.authorization);
        expect([400, 409, 429]).toContain(response.status);
      }),
      { numRuns: 15 },
    );
  });

  it('is mirrored on REST', async () => {
    const { account, secret } = await enrolled();
    const post = (path: string, body: unknown) => fetch(`${gh.url}/api${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const login = await post('/auth/login', account);
    expect(login.status).toBe(200);
    const { mfaToken } = await login.json();
    const verified = await post('/auth/mfa/verify', { mfaToken, code: await nextCode(secret) });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ tokenType: 'Bearer' });
  });
});

describe('turning it off and replacing recovery codes', () => {
  it('needs the current password and a code to turn off; then sign-in is the password alone', async () => {
    const { authorization, account, secret, user } = await enrolled();
    const wrongPassword = await call('me.mfa.disable', { currentPassword: 'Wrong-Password-1', code: await nextCode(secret) }, authorization);
    expect(wrongPassword.status).toBe(400);
    expect(Object.keys(fieldErrors(wrongPassword))).toEqual(['currentPassword']);
    const badCode = await call('me.mfa.disable', { currentPassword: account.password, code: wrongCode(secret) }, authorization);
    expect(badCode.status).toBe(400);
    expect(Object.keys(fieldErrors(badCode))).toEqual(['code']);
    // Nothing changed: a sign-in still asks for the code.
    await challenge(account);

    const off = await call('me.mfa.disable', { currentPassword: account.password, code: await nextCode(secret) }, authorization);
    expect(off.status).toBe(200);
    const login = await call('auth.login', account);
    expect(data(login)).toMatchObject({ tokenType: 'Bearer', user: { mfaEnabled: false } });
    expect(await eventsOf(user.id, 'mfa_disabled')).toHaveLength(1);
    expect((await call('me.mfa.disable', { currentPassword: account.password, code: '123456' }, authorization)).status).toBe(409);
  });

  it('replaces the recovery codes for a code: the old ones stop working', async () => {
    const { authorization, account, secret, recoveryCodes } = await enrolled();
    const regenerated = await call('me.mfa.recoveryCodes.regenerate', { code: await nextCode(secret) }, authorization);
    expect(regenerated.status).toBe(200);
    const fresh = data(regenerated).recoveryCodes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.some((code) => recoveryCodes.includes(code))).toBe(false);
    expect((await call('auth.verifyMfa', { mfaToken: await challenge(account), recoveryCode: recoveryCodes[0] })).status).toBe(401);
    expect((await call('auth.verifyMfa', { mfaToken: await challenge(account), recoveryCode: fresh[0] })).status).toBe(200);
    // A recovery code is as good as the app's code for this too.
    expect((await call('me.mfa.recoveryCodes.regenerate', { code: fresh[1] }, authorization)).status).toBe(200);
    expect((await call('me.mfa.recoveryCodes.regenerate', { code: wrongCode(secret) }, authorization)).status).toBe(400);
  });
});

describe('a challenge opened before the password changes', () => {
  // Someone who had the old password opened a challenge; the user then changed or reset it. The
  // challenge proves a password that no longer works, so even the right code must not redeem it.
  const stale = async (change: (target: Awaited<ReturnType<typeof enrolled>>) => Promise<void>) => {
    const target = await enrolled();
    const opened = await challenge(target.account);
    await change(target);
    const late = await call('auth.verifyMfa', { mfaToken: opened, code: await nextCode(target.secret) });
    expect(late.status).toBe(401);
    expect(late.body.error.message).toBe(INVALID);
    return target;
  };

  it('is void after a reset by link', async () => {
    const target = await stale(async ({ user, account }) => {
      const token = await issueToken(gh.deps.database.db, 'password_reset', user.id, account.email);
      expect((await call('auth.resetPassword', { token, newPassword: 'Reset-By-Link-Secret-61' })).status).toBe(200);
    });
    // The new password opens a challenge the code answers.
    const fresh = await challenge({ email: target.account.email, password: 'Reset-By-Link-Secret-61' });
    expect((await call('auth.verifyMfa', { mfaToken: fresh, code: await nextCode(target.secret) })).status).toBe(200);
  });

  it('is void after the user changes the password', async () => {
    await stale(async ({ authorization, account }) => {
      const changed = await call('me.changePassword', { currentPassword: account.password, newPassword: 'Changed-By-User-Secret-62' }, authorization);
      expect(changed.status).toBe(200);
    });
  });

  it("is void after an operator sets the password (gatehouse user:reset-password)", async () => {
    await stale(async ({ user }) => {
      await gh.deps.userAdmin.setPassword(user.id, 'Set-By-Operator-Secret-63', operator());
    });
  });
});

describe('admin reset', () => {
  it("clears a user's factor, audited with the actor", async () => {
    const admin = await signIn(gh, ['admin']);
    const target = await enrolled();
    const reset = await call('admin.users.resetMfa', { id: target.user.id }, admin.authorization);
    expect(reset.status).toBe(200);
    expect(data(await call('auth.login', target.account))).toMatchObject({ tokenType: 'Bearer', user: { mfaEnabled: false } });
    const [event] = await eventsOf(target.user.id, 'mfa_disabled');
    expect(event).toMatchObject({ actorId: admin.user.id, reason: 'admin_reset', success: true });
  });

  it('needs users:write, and every permission of the user whose factor it clears', async () => {
    const plain = await signIn(gh);
    const target = await enrolled();
    expect((await call('admin.users.resetMfa', { id: target.user.id }, plain.authorization)).status).toBe(403);

    const adminWithFactor = await enrolled(['admin']);
    const helpdeskRole = await gh.deps.roleAdmin.create({ name: `helpdesk-${Date.now()}`, permissions: ['users:read', 'users:write'] }, (await import('../../server/services/rbac.ts')).operator());
    const helpdesk = await signIn(gh, [helpdeskRole.name]);
    expect((await call('admin.users.resetMfa', { id: target.user.id }, helpdesk.authorization)).status).toBe(200);
    const escalation = await call('admin.users.resetMfa', { id: adminWithFactor.user.id }, helpdesk.authorization);
    expect(escalation.status).toBe(403);
    await challenge(adminWithFactor.account);
    expect((await call('admin.users.resetMfa', { id: '00000000-0000-4000-8000-000000000000' }, (await signIn(gh, ['admin'])).authorization)).status).toBe(404);
  });
});

describe('MFA_REQUIRED_ROLES', () => {
  let policy: TestServer;
  beforeAll(async () => {
    policy = await startTestServer({ env: { MFA_REQUIRED_ROLES: 'admin' } });
  });
  afterAll(async () => {
    await policy?.close();
  });
  const at = (path: string, input: unknown, authorization?: string, method: 'GET' | 'POST' = 'POST') =>
    trpcHttp(policy.url, path, input, { method, ...(authorization ? { headers: { authorization } } : {}) });

  it('gives an admin without a factor an enrolment token good for enrolling only, then the tokens', async () => {
    const account = newAccount('admin');
    const admin = await policy.deps.userAdmin.create({ ...account, roles: ['admin'] }, (await import('../../server/services/rbac.ts')).operator());
    const login = await at('auth.login', account);
    expect(login.status).toBe(200);
    expect(data(login)).toEqual({ mfaEnrollmentRequired: true, enrollmentToken: expect.any(String), expiresIn: 600 });
    const enrollment = `Bearer ${data(login).enrollmentToken}`;

    // The token is no access token.
    expect((await at('me.get', undefined, enrollment, 'GET')).status).toBe(401);
    expect((await at('admin.users.list', {}, enrollment, 'GET')).status).toBe(401);
    expect((await at('me.mfa.disable', { currentPassword: account.password, code: '123456' }, enrollment)).status).toBe(401);

    const begun = await at('me.mfa.totp.begin', {}, enrollment);
    expect(begun.status).toBe(200);
    const confirmed = await at('me.mfa.totp.confirm', { code: await nextCode(data(begun).secret) }, enrollment);
    expect(confirmed.status).toBe(200);
    const { recoveryCodes, tokens } = data(confirmed);
    expect(recoveryCodes).toHaveLength(10);
    expect(decodeJwt(tokens.accessToken)).toMatchObject({ sub: admin.id, amr: ['pwd', 'otp'] });
    expect((await at('admin.users.list', {}, `Bearer ${tokens.accessToken}`, 'GET')).status).toBe(200);

    // Spent: it enrols no one again, and the next sign-in asks for a code.
    expect((await at('me.mfa.totp.begin', {}, enrollment)).status).toBe(401);
    expect(data(await at('auth.login', account))).toMatchObject({ mfaRequired: true });
  });

  it('lets members of other roles sign in with the password alone', async () => {
    const account = newAccount();
    await policy.deps.userAdmin.create({ ...account, roles: ['user'] }, (await import('../../server/services/rbac.ts')).operator());
    expect(data(await at('auth.login', account))).toMatchObject({ tokenType: 'Bearer' });
  });
});

describe('limits on codes', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer();
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('refuses codes for an account after the login limit of wrong ones, whatever challenge they come on', async () => {
    const session = await signIn(limited);
    const begun = await trpcHttp(limited.url, 'me.mfa.totp.begin', {}, { headers: { authorization: session.authorization } });
    const { secret } = data(begun);
    await trpcHttp(limited.url, 'me.mfa.totp.confirm', { code: await nextCode(secret) }, { headers: { authorization: session.authorization } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const login = await trpcHttp(limited.url, 'auth.login', session.account);
      const response = await trpcHttp(limited.url, 'auth.verifyMfa', { mfaToken: data(login).mfaToken, code: wrongCode(secret) });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(response.body.error.data.retryAfterSeconds).toBeGreaterThan(0);
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });
});
