// Rate limits end to end: the numbers, the 429 answer, the audit row, and each limited route.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents } from '../../db/schema/index.ts';
import { limitRules } from '../../server/services/rate-limits/rules.ts';
import { newAccount, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

describe('limit rules', () => {
  it('derives every login counter from LOGIN_RATE_LIMIT: a burst and an hourly cap per IP, the allowance per account+IP, a per-account cap for unknown devices', () => {
    for (const login of [{ points: 5, seconds: 60 }, { points: 1, seconds: 1 }, { points: 50, seconds: 3600 }]) {
      const [burst, ip, accountIp, device, account] = limitRules(login).guards.login;
      expect(burst).toMatchObject({ name: 'login_ip_burst', keyBy: 'ip', points: login.points * 4, seconds: login.seconds });
      expect(ip).toMatchObject({ name: 'login_ip', keyBy: 'ip', points: login.points * 20, seconds: login.seconds * 60 });
      expect(accountIp).toMatchObject({ name: 'login_account_ip', points: login.points, seconds: login.seconds, onSuccess: 'reset' });
      expect(device).toMatchObject({ name: 'login_device', keyBy: 'device', devices: 'known' });
      expect(account).toMatchObject({ name: 'login_account', keyBy: 'subject', devices: 'unknown' });
    }
  });

  it('applies overrides by counter name', () => {
    expect(limitRules({ points: 5, seconds: 60 }, { register_ip: { points: 2 } }).guards.register[0]).toMatchObject({ points: 2, seconds: 3600 });
    expect(limitRules({ points: 5, seconds: 60 }, { token_client: { points: 3 } }).failures.token[0]).toMatchObject({ points: 3, seconds: 60 });
  });
});

describe('login limit', () => {
  let gh: TestServer;
  beforeAll(async () => {
    // Every request of this block comes from one address: the per-IP caps have tests of their own.
    gh = await startTestServer({ env: { LOGIN_RATE_LIMIT: '3/60' }, rateLimits: { login_ip_burst: { points: 1000 } } });
  });
  afterAll(() => gh?.close());

  const login = (body: unknown) => trpcHttp(gh.url, 'auth.login', body);

  it('refuses the attempt after LOGIN_RATE_LIMIT failures with 429, Retry-After and retryAfterSeconds, even with the right password', async () => {
    const account = newAccount();
    await trpcHttp(gh.url, 'auth.register', account);
    for (let i = 0; i < 3; i += 1) expect((await login({ ...account, password: 'Wrong-Password-1' })).status).toBe(401);
    const blocked = await login(account);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.data.code).toBe('TOO_MANY_REQUESTS');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(blocked.body.error.data.retryAfterSeconds).toBe(retryAfter);
    expect(JSON.stringify(blocked.body)).not.toMatch(/stack/);
  });

  it('answers an unknown account exactly like an existing one', async () => {
    const known = newAccount();
    await trpcHttp(gh.url, 'auth.register', known);
    const unknown = newAccount('ghost');
    const answers = [];
    for (const account of [known, unknown]) {
      for (let i = 0; i < 3; i += 1) await login({ ...account, password: 'Wrong-Password-1' });
      answers.push(await login({ ...account, password: 'Wrong-Password-1' }));
    }
    const [a, b] = answers;
    expect(a!.status).toBe(429);
    expect(b!.status).toBe(429);
    expect(b!.body).toEqual(a!.body);
    expect(b!.headers.get('retry-after')).toBe(a!.headers.get('retry-after'));
  });

  it('resets the account+IP count on a successful login', async () => {
    const account = newAccount();
    await trpcHttp(gh.url, 'auth.register', account);
    for (let i = 0; i < 2; i += 1) await login({ ...account, password: 'Wrong-Password-1' });
    expect((await login(account)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await login({ ...account, password: 'Wrong-Password-1' })).status).toBe(401);
    expect((await login(account)).status).toBe(429);
  });

  it('counts per account and IP: the same account from another IP is not blocked', async () => {
    const account = newAccount();
    await trpcHttp(gh.url, 'auth.register', account);
    const fromA = gh.caller({ meta: { ip: '198.51.100.1', userAgent: 'a' } });
    const fromB = gh.caller({ meta: { ip: '198.51.100.2', userAgent: 'b' } });
    for (let i = 0; i < 3; i += 1) await expect(fromA.auth.login({ ...account, password: 'Wrong-Password-1' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(fromA.auth.login(account)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await expect(fromB.auth.login(account)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('writes one rate_limited audit row per key and window, not one per refused request', async () => {
    const account = newAccount();
    const ip = '198.51.100.77';
    const caller = gh.caller({ meta: { ip, userAgent: 'audit-test' } });
    for (let i = 0; i < 3; i += 1) await caller.auth.login({ ...account, password: 'Wrong-Password-1' }).catch(() => {});
    for (let i = 0; i < 3; i += 1) await expect(caller.auth.login(account)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    const rows = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.type, 'rate_limited'), eq(authEvents.ip, ip)));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ success: false, reason: 'login_account_ip', userAgent: 'audit-test', metadata: { limit: 'login', email: account.email } });
    expect(JSON.stringify(rows)).not.toContain(account.password);
  });
});

describe('login caps across accounts and across IPs', () => {
  let gh: TestServer;
  beforeAll(async () => {
    gh = await startTestServer({ rateLimits: { login_ip: { points: 4 }, login_account: { points: 6 } } });
  });
  afterAll(() => gh?.close());

  it('caps failures per IP across accounts', async () => {
    const caller = gh.caller({ meta: { ip: '192.0.2.10', userAgent: 'spray' } });
    for (let i = 0; i < 4; i += 1) await expect(caller.auth.login({ ...newAccount(), password: 'Wrong-Password-1' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(caller.auth.login({ ...newAccount(), password: 'Wrong-Password-1' })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    // Another address is unaffected.
    await expect(gh.caller({ meta: { ip: '192.0.2.11', userAgent: 'x' } }).auth.login({ ...newAccount(), password: 'Wrong-Password-1' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('caps failures per account across IPs, and a refused request adds nothing to later counters', async () => {
    const account = newAccount();
    const wrong = { ...account, password: 'Wrong-Password-1' };
    // One IP alone cannot get there: after its own cap it is refused before the account counter.
    const single = gh.caller({ meta: { ip: '192.0.2.20', userAgent: 'x' } });
    for (let i = 0; i < 10; i += 1) await single.auth.login(wrong).catch(() => {});
    await expect(gh.caller({ meta: { ip: '192.0.2.21', userAgent: 'x' } }).auth.login(wrong)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    // Many IPs can.
    for (let i = 0; i < 3; i += 1) await gh.caller({ meta: { ip: `192.0.2.${30 + i}`, userAgent: 'x' } }).auth.login(wrong).catch(() => {});
    await expect(gh.caller({ meta: { ip: '192.0.2.40', userAgent: 'x' } }).auth.login(wrong)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });
});

describe('other limits', () => {
  let gh: TestServer;
  beforeAll(async () => {
    gh = await startTestServer({
      rateLimits: { register_ip: { points: 2 }, verify_ip: { points: 2 }, token_client: { points: 2 }, change_password_user: { points: 2 } },
    });
  });
  afterAll(() => gh?.close());

  it('limits sign-ups per IP, counting every attempt', async () => {
    expect((await trpcHttp(gh.url, 'auth.register', newAccount())).status).toBe(200);
    expect((await trpcHttp(gh.url, 'auth.register', { ...newAccount(), password: 'weak' })).status).toBe(400);
    const third = await trpcHttp(gh.url, 'auth.register', newAccount());
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('limits failed refreshes per IP; successful ones are neither counted nor refused', async () => {
    const caller = gh.caller({ meta: { ip: '192.0.2.50', userAgent: 'x' } });
    let { refreshToken } = tokensOf(await gh.caller({ meta: { ip: '192.0.2.51', userAgent: 'x' } }).auth.login(await registered()));
    for (let i = 0; i < 4; i += 1) refreshToken = (await caller.auth.refresh({ refreshToken })).refreshToken;
    for (let i = 0; i < 2; i += 1) await expect(caller.auth.refresh({ refreshToken: `nope-${i}` })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(caller.auth.refresh({ refreshToken: 'nope-2' })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await expect(caller.auth.refresh({ refreshToken })).resolves.toHaveProperty('accessToken');
  });

  it('limits inactive verifications per IP; active ones are neither counted nor refused', async () => {
    const caller = gh.caller({ meta: { ip: '192.0.2.60', userAgent: 'x' } });
    const { accessToken } = tokensOf(await gh.caller({ meta: { ip: '192.0.2.61', userAgent: 'x' } }).auth.login(await registered()));
    for (let i = 0; i < 4; i += 1) expect((await caller.auth.verify({ token: accessToken })).active).toBe(true);
    for (let i = 0; i < 2; i += 1) expect((await caller.auth.verify({ token: 'forged' })).active).toBe(false);
    await expect(caller.auth.verify({ token: 'forged' })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect((await caller.auth.verify({ token: accessToken })).active).toBe(true);
    await expect(caller.auth.verify({ token: 'forged' })).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    // Refused in memory, and still audited once per key and window.
    const rows = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.type, 'rate_limited'), eq(authEvents.ip, '192.0.2.60')));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ reason: 'verify_ip', success: false });
  });

  it('limits failed requests at /oidc/token with 429, Retry-After and an OAuth error body', async () => {
    const post = () =>
      fetch(`${gh.url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'guess', client_id: 'gatehouse' }),
      });
    expect((await post()).status).toBe(400);
    expect((await post()).status).toBe(400);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: 'rate_limited' });
  });

  it('exposes the change-password limiter: wrong current passwords per user, reset by a success', async () => {
    const meta = { ip: '192.0.2.70', userAgent: 'x' };
    const limiter = gh.deps.rateLimits.changePassword;
    await limiter.begin('user-1', meta);
    const ok = await limiter.begin('user-1', meta);
    await ok.succeeded();
    await limiter.begin('user-1', meta);
    await limiter.begin('user-1', meta);
    await expect(limiter.begin('user-1', { ...meta, ip: '192.0.2.71' }, { userId: null })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(limiter.begin('user-2', meta)).resolves.toBeDefined();
  });

  async function registered() {
    const account = newAccount();
    await gh.deps.auth.register(account, { ip: '192.0.2.99', userAgent: 'x' });
    return account;
  }
});

describe('client address', () => {
  it('ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
    for (const trustProxy of [false, true]) {
      const gh = await startTestServer({ env: { LOGIN_RATE_LIMIT: '1/60', TRUST_PROXY: String(trustProxy) } });
      try {
        const account = newAccount();
        const attempt = (ip: string) => trpcHttp(gh.url, 'auth.login', { ...account, password: 'Wrong-Password-1' }, { headers: { 'x-forwarded-for': ip } });
        expect((await attempt('192.0.2.1')).status).toBe(401);
        // A different forwarded address is a different client only behind a trusted proxy.
        expect((await attempt('192.0.2.2')).status, `TRUST_PROXY=${trustProxy}`).toBe(trustProxy ? 401 : 429);
      } finally {
        await gh.close();
      }
    }
  });
});
