// Two real server processes on one PostgreSQL (and one Redis when REDIS_URL is set), as behind a
// load balancer: sessions and rate-limit counts are shared, whichever instance a request reaches.
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startChild, type ChildServer } from '../helpers/child.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { newAccount, trpcHttp } from '../helpers/server.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const redisUrl = process.env.REDIS_URL;
const title = usingPostgres
  ? `two instances on one PostgreSQL${redisUrl ? ' and one Redis' : ''}`
  : 'two instances (skipped: needs PostgreSQL; set TEST_DATABASE_URL)';

describe.skipIf(!usingPostgres)(title, () => {
  let database: TestDatabase;
  let keysDir: string;
  let a: ChildServer;
  let b: ChildServer;
  let smtp: TestSmtp;
  // A client address of its own (behind a trusted proxy), so counts in a shared Redis never meet
  // those of another run.
  const clientIp = `198.18.${randomInt(256)}.${randomInt(1, 255)}`;
  const headers = { 'x-forwarded-for': clientIp };

  beforeAll(async () => {
    database = await createTestDatabase();
    smtp = await startSmtp();
    keysDir = await mkdtemp(join(tmpdir(), 'gatehouse-multi-'));
    const portA = await freePort();
    // One public URL (one issuer) for both, as behind a load balancer; one key set.
    const env = { DATABASE_URL: database.url, KEYS_DIR: keysDir, PUBLIC_URL: `http://127.0.0.1:${portA}`, LOGIN_RATE_LIMIT: '3/600', TRUST_PROXY: 'true', SMTP_URL: smtp.url, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
    // One after the other: the first creates the keys and migrates.
    a = await startChild(env, { port: portA });
    b = await startChild(env);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await database?.drop();
    await smtp?.stop();
    if (keysDir) await rm(keysDir, { recursive: true, force: true });
  });

  it('uses the shared store', () => {
    const kind = redisUrl ? 'redis' : 'database';
    for (const server of [a, b]) expect(server.logs.find((l) => l.includes('"gatehouse listening"'))).toContain(`"rateLimitStore":"${kind}"`);
  });

  it('refreshes on B a session started on A, and a logout on A ends it on B', async () => {
    const account = newAccount();
    expect((await trpcHttp(a.url, 'auth.register', account, { headers })).status).toBe(200);
    const login = await trpcHttp(a.url, 'auth.login', account, { headers });
    expect(login.status).toBe(200);
    const refreshed = await trpcHttp(b.url, 'auth.refresh', { refreshToken: login.body.result.data.refreshToken }, { headers });
    expect(refreshed.status).toBe(200);
    const { accessToken, refreshToken } = refreshed.body.result.data;
    const meOnB = () => trpcHttp(b.url, 'me.get', undefined, { method: 'GET', headers: { ...headers, authorization: `Bearer ${accessToken}` } });
    expect((await meOnB()).status).toBe(200);

    expect((await trpcHttp(a.url, 'auth.logout', { refreshToken }, { headers })).status).toBe(200);
    expect((await meOnB()).status).toBe(401);
    expect((await trpcHttp(b.url, 'auth.refresh', { refreshToken }, { headers })).status).toBe(401);
    const verified = await trpcHttp(b.url, 'auth.verify', { token: accessToken }, { headers });
    expect(verified.body.result.data).toEqual({ active: false });
  });

  it('adds up failed logins across both instances', async () => {
    const account = newAccount();
    await trpcHttp(a.url, 'auth.register', account, { headers });
    const wrong = { ...account, password: 'Wrong-Password-1' };
    expect((await trpcHttp(a.url, 'auth.login', wrong, { headers })).status).toBe(401);
    expect((await trpcHttp(b.url, 'auth.login', wrong, { headers })).status).toBe(401);
    expect((await trpcHttp(a.url, 'auth.login', wrong, { headers })).status).toBe(401);
    // The fourth failure in the window, whichever instance sees it, is one too many.
    const blocked = await trpcHttp(b.url, 'auth.login', account, { headers });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await trpcHttp(a.url, 'auth.login', account, { headers })).status).toBe(429);
  });

  it('sends each outbox message exactly once', async () => {
    const accounts = Array.from({ length: 16 }, () => newAccount('outbox'));
    // Sign-ups alternate between the instances; every one writes a row both workers could claim.
    await Promise.all(accounts.map((account, i) => trpcHttp(i % 2 ? a.url : b.url, 'auth.register', account, { headers })));
    await Promise.all(accounts.map((account, i) => trpcHttp(i % 2 ? b.url : a.url, 'auth.requestPasswordReset', { email: account.email }, { headers })));
    for (const account of accounts) {
      await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/reset-password');
      await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/verify-email');
    }
    // Time for a second delivery to show up, if any instance were to send one.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    for (const account of accounts) expect(smtp.mails.filter((m) => m.to === account.email).map((m) => m.link?.pathname).sort()).toEqual(['/account/reset-password', '/account/verify-email']);
  }, 60_000);
});
