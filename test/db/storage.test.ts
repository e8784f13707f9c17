// What a copy of the database would give an attacker: no credential in plain text anywhere.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, oidcPayloads, sessions, users } from '../../db/schema/index.ts';
import { createPersistentTestDatabase } from '../helpers/database.ts';
import { newAccount, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

describe('stored data', () => {
  let gh: TestServer;
  beforeAll(async () => {
    gh = await startTestServer();
  });
  afterAll(() => gh?.close());

  it('holds no raw refresh token, access token id, session id or password', async () => {
    const account = newAccount();
    // What is stored does not depend on the wire: the procedures, called directly.
    const registered = tokensOf(await gh.caller().auth.register(account));
    const rotated = await gh.caller().auth.refresh({ refreshToken: registered.refreshToken });
    const secrets = [
      registered.refreshToken,
      rotated.refreshToken,
      account.password,
      decodeJwt(registered.accessToken).jti as string,
      decodeJwt(rotated.accessToken).jti as string,
    ];
    const { db } = gh.deps.database;
    const dump = JSON.stringify([
      await db.select().from(oidcPayloads),
      await db.select().from(sessions),
      await db.select().from(authEvents),
      await db.select().from(users),
    ]);
    expect(dump).toContain(registered.user.id);
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(dump).toMatch(/\$2b\$04\$/);
  });

  it('keeps secrets out of the logs', async () => {
    const account = newAccount();
    const tokens = (await trpcHttp(gh.url, 'auth.register', account)).body.result.data;
    await trpcHttp(gh.url, 'auth.login', { ...account, password: 'Wrong-But-Logged-1' });
    const log = gh.logs.join('\n');
    expect(log).toMatch(/"path":"\/trpc\/auth.register"/);
    for (const secret of [account.password, 'Wrong-But-Logged-1', tokens.refreshToken, tokens.accessToken]) expect(log).not.toContain(secret);
  });
});

describe('restart', () => {
  it('keeps tokens valid across a restart with the same KEYS_DIR and database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-restart-'));
    const database = await createPersistentTestDatabase(join(dir, 'pglite'));
    const keysDir = join(dir, 'keys');
    const first = await startTestServer({ database, keysDir, keep: true });
    const tokens = (await trpcHttp(first.url, 'auth.register', newAccount())).body.result.data;
    await first.close();

    const second = await startTestServer({ database, keysDir, keep: true, port: Number(new URL(first.url).port) });
    try {
      expect(second.url).toBe(first.url);
      const me = await trpcHttp(second.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(me.status).toBe(200);
      expect(me.body.result.data.id).toBe(tokens.user.id);
      const verified = await trpcHttp(second.url, 'auth.verify', { token: tokens.accessToken });
      expect(verified.body.result.data.active).toBe(true);
      const refreshed = await trpcHttp(second.url, 'auth.refresh', { refreshToken: tokens.refreshToken });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.result.data.user.id).toBe(tokens.user.id);
    } finally {
      await second.close();
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
