// Contract test for the oidc-provider adapter, on whichever driver this run uses (PGlite by
// default, PostgreSQL with TEST_DATABASE_URL).
import { eq } from 'drizzle-orm';
import { errors } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
import { oidcPayloads } from '../../db/schema/index.ts';
import { createAdapterFactory, purgeExpiredOidcRows } from '../../server/oidc/adapter.ts';
import { digest } from '../../server/common/digest.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let testDb: TestDatabase;
let database: Database;
let store: ReturnType<typeof createAdapterFactory>;
// Reads like the provider's own use: new Adapter(model).
const Adapter = function (model: string) {
  return store(model);
} as unknown as new (model: string) => ReturnType<typeof store>;
let n = 0;
const id = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2)}`;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  testDb = await createTestDatabase();
  const url = testDb.url;
  database = await openDatabase(url === 'pglite://memory' ? { driver: 'pglite', dataDir: null } : { driver: 'postgres', url });
  store = createAdapterFactory(database.db, { refreshGraceSeconds: 0 });
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

async function rowsFor(model: string, raw: string) {
  return database.db.select().from(oidcPayloads).where(eq(oidcPayloads.id, digest(raw)));
}

describe('DrizzleAdapter', () => {
  it('upserts and finds a payload, giving back the jti it was stored under', async () => {
    const adapter = new Adapter('AccessToken');
    const jti = id('at');
    await adapter.upsert(jti, { jti, kind: 'AccessToken', accountId: 'acc-1', iat: now(), exp: now() + 60 }, 60);
    expect(await adapter.find(jti)).toMatchObject({ jti, kind: 'AccessToken', accountId: 'acc-1' });
    expect(await adapter.find(id('missing'))).toBeUndefined();

    // Upsert again: the payload is replaced, not duplicated.
    await adapter.upsert(jti, { jti, kind: 'AccessToken', accountId: 'acc-2', iat: now(), exp: now() + 60 }, 60);
    expect(await adapter.find(jti)).toMatchObject({ accountId: 'acc-2' });
    expect(await rowsFor('AccessToken', jti)).toHaveLength(1);
  });

  it('keeps models apart: the same id under another model is not found', async () => {
    const jti = id('shared');
    await new Adapter('AuthorizationCode').upsert(jti, { jti, kind: 'AuthorizationCode' }, 60);
    expect(await new Adapter('RefreshToken').find(jti)).toBeUndefined();
  });

  it('stores digests and no raw jti, grant id, uid or user code', async () => {
    const adapter = new Adapter('DeviceCode');
    const jti = id('dc');
    const grantId = id('grant');
    const uid = id('uid');
    const userCode = 'ABCD-EFGH';
    await adapter.upsert(jti, { jti, kind: 'DeviceCode', grantId, uid, userCode }, 60);
    const [row] = await rowsFor('DeviceCode', jti);
    expect(row).toBeDefined();
    expect(row!.id).toBe(digest(jti));
    expect(row!.grantId).toBe(digest(grantId));
    expect(row!.uid).toBe(digest(uid));
    expect(row!.userCode).toBe(digest(userCode));
    expect(JSON.stringify(row!.payload)).not.toContain(jti);
    expect(row!.payload).not.toHaveProperty('jti');
  });

  it('drops the browser session id that the provider copies into interactions', async () => {
    const adapter = new Adapter('Interaction');
    const uid = id('interaction');
    const sessionId = id('session-cookie');
    await adapter.upsert(uid, { jti: uid, kind: 'Interaction', session: { accountId: 'acc', uid: 'u1', cookie: sessionId } } as never, 60);
    const [row] = await rowsFor('Interaction', uid);
    expect(JSON.stringify(row!.payload)).not.toContain(sessionId);
    expect(await adapter.find(uid)).toMatchObject({ session: { accountId: 'acc', uid: 'u1' } });
  });

  it('finds by uid and by user code', async () => {
    const session = new Adapter('Session');
    const sid = id('sess');
    const uid = id('uid');
    await session.upsert(sid, { jti: sid, kind: 'Session', uid, accountId: 'acc' }, 60);
    expect(await session.findByUid(uid)).toMatchObject({ uid, accountId: 'acc' });
    expect(await session.findByUid(id('nope'))).toBeUndefined();

    const device = new Adapter('DeviceCode');
    const code = id('dc');
    await device.upsert(code, { jti: code, kind: 'DeviceCode', userCode: 'WXYZ-1234' }, 60);
    expect(await device.findByUserCode('WXYZ-1234')).toMatchObject({ userCode: 'WXYZ-1234' });
    expect(await device.findByUserCode('NOPE-0000')).toBeUndefined();
  });

  it('consumes once: the payload then says consumed, and a second consume throws invalid_grant', async () => {
    const adapter = new Adapter('AuthorizationCode');
    const code = id('code');
    await adapter.upsert(code, { jti: code, kind: 'AuthorizationCode' }, 60);
    expect((await adapter.find(code))?.consumed).toBeUndefined();
    await adapter.consume(code);
    const consumed = await adapter.find(code);
    expect(typeof consumed?.consumed).toBe('number');
    await expect(adapter.consume(code)).rejects.toBeInstanceOf(errors.InvalidGrant);
  });

  it('lets exactly one of many concurrent consumes win', async () => {
    const adapter = new Adapter('RefreshToken');
    const token = id('rt');
    await adapter.upsert(token, { jti: token, kind: 'RefreshToken' }, 60);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => adapter.consume(token)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('hides a refresh token consumed inside the grace window', async () => {
    const graced = createAdapterFactory(database.db, { refreshGraceSeconds: 60 })('RefreshToken');
    const token = id('rt');
    await graced.upsert(token, { jti: token, kind: 'RefreshToken' }, 60);
    await graced.consume(token);
    expect(await graced.find(token)).toBeUndefined();
    // Without the window the consumed token is visible, so the provider can detect its reuse.
    expect(await new Adapter('RefreshToken').find(token)).toMatchObject({ jti: token });
  });

  it('destroys one entry', async () => {
    const adapter = new Adapter('Interaction');
    const a = id('i');
    const b = id('i');
    await adapter.upsert(a, { jti: a, kind: 'Interaction' }, 60);
    await adapter.upsert(b, { jti: b, kind: 'Interaction' }, 60);
    await adapter.destroy(a);
    expect(await adapter.find(a)).toBeUndefined();
    expect(await adapter.find(b)).toBeDefined();
  });

  it('revokes by grant id, for its own model only', async () => {
    const refresh = new Adapter('RefreshToken');
    const access = new Adapter('AccessToken');
    const grantId = id('grant');
    const [r1, r2, other, at] = [id('rt'), id('rt'), id('rt'), id('at')];
    await refresh.upsert(r1, { jti: r1, kind: 'RefreshToken', grantId }, 60);
    await refresh.upsert(r2, { jti: r2, kind: 'RefreshToken', grantId }, 60);
    await refresh.upsert(other, { jti: other, kind: 'RefreshToken', grantId: id('grant') }, 60);
    await access.upsert(at, { jti: at, kind: 'AccessToken', grantId }, 60);
    await refresh.revokeByGrantId(grantId);
    expect(await refresh.find(r1)).toBeUndefined();
    expect(await refresh.find(r2)).toBeUndefined();
    expect(await refresh.find(other)).toBeDefined();
    expect(await access.find(at)).toBeDefined();
  });

  it('treats expired rows as gone and purges them', async () => {
    const adapter = new Adapter('Session');
    const expired = id('s');
    const live = id('s');
    await adapter.upsert(expired, { jti: expired, kind: 'Session' }, 60);
    await adapter.upsert(live, { jti: live, kind: 'Session' }, 3600);
    await database.db.update(oidcPayloads).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(oidcPayloads.id, digest(expired)));
    expect(await adapter.find(expired)).toBeUndefined();
    expect(await purgeExpiredOidcRows(database.db)).toBeGreaterThanOrEqual(1);
    expect(await rowsFor('Session', expired)).toHaveLength(0);
    expect(await adapter.find(live)).toBeDefined();
  });
});
