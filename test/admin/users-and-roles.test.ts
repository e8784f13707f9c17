// Admin management of users and roles, with role-based access control.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, users } from '../../db/schema/index.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let admin: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  gh = await startTestServer();
  admin = await signIn(gh, ['admin']);
});
afterAll(() => gh?.close());

const rejects = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });

describe('permission edges over HTTP', () => {
  it('answers 401 without a token, 403 without the permission (audited), 200 with it', async () => {
    const plain = await signIn(gh);
    const anonymous = await trpcHttp(gh.url, 'admin.users.list', {}, { method: 'GET' });
    expect(anonymous.status).toBe(401);
    const denied = await trpcHttp(gh.url, 'admin.users.list', {}, { method: 'GET', headers: { authorization: plain.authorization } });
    expect(denied.status).toBe(403);
    expect(denied.body.error.data.code).toBe('FORBIDDEN');
    const allowed = await trpcHttp(gh.url, 'admin.users.list', {}, { method: 'GET', headers: { authorization: admin.authorization } });
    expect(allowed.status).toBe(200);
    expect(allowed.body.result.data.total).toBeGreaterThanOrEqual(2);

    const audit = await gh.deps.database.db
      .select()
      .from(authEvents)
      .where(and(eq(authEvents.type, 'access_denied'), eq(authEvents.actorId, plain.user.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ success: false, metadata: { procedure: 'admin.users.list', required: ['users:read'] } });
  });

  it('grants exactly what a custom role holds, and applies role changes at the next request', async () => {
    await admin.caller.admin.roles.create({ name: 'support', permissions: ['users:read'] });
    const agent = await signIn(gh, ['support']);
    await expect(agent.caller.admin.users.list({})).resolves.toHaveProperty('items');
    await rejects(agent.caller.admin.users.create({ ...newAccount(), roles: ['admin'] }), 'FORBIDDEN');
    await rejects(agent.caller.admin.roles.list(), 'FORBIDDEN');
    // Same access token, roles taken away: refused at once.
    await admin.caller.admin.users.update({ id: agent.user.id, roles: ['user'] });
    await rejects(agent.caller.admin.users.list({}), 'FORBIDDEN');
    // And granted: allowed at once.
    await admin.caller.admin.users.update({ id: agent.user.id, roles: ['user', 'support'] });
    await expect(agent.caller.admin.users.list({})).resolves.toHaveProperty('items');
  });

  it('refuses a token whose user was disabled, on every signed-in procedure', async () => {
    const someone = await signIn(gh);
    await admin.caller.admin.users.update({ id: someone.user.id, isActive: false });
    const res = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: someone.authorization } });
    expect(res.status).toBe(401);
  });
});

describe('admin.users', () => {
  it('creates with roles, gets, and refuses duplicates, weak passwords and unknown roles', async () => {
    const account = newAccount('created');
    const created = await admin.caller.admin.users.create({ ...account, name: 'Created One', roles: ['user', 'admin'] });
    expect(created).toMatchObject({ email: account.email, name: 'Created One', roles: ['admin', 'user'], isActive: true });
    expect(await admin.caller.admin.users.get({ id: created.id })).toEqual(created);
    await rejects(admin.caller.admin.users.create({ ...account, email: account.email.toUpperCase() }), 'CONFLICT');
    await rejects(admin.caller.admin.users.create({ ...newAccount(), password: 'weak' }), 'BAD_REQUEST');
    await rejects(admin.caller.admin.users.create({ ...newAccount(), roles: ['no-such-role'] }), 'BAD_REQUEST');
    await rejects(admin.caller.admin.users.get({ id: crypto.randomUUID() }), 'NOT_FOUND');
    await rejects(admin.caller.admin.users.get({ id: 'not-a-uuid' }), 'BAD_REQUEST');
    const events = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.type, 'user_created'), eq(authEvents.userId, created.id)));
    expect(events[0]).toMatchObject({ actorId: admin.user.id, success: true });
  });

  it('refuses mass assignment on update: only name, email, emailVerified, isActive and roles', async () => {
    const target = await signIn(gh);
    for (const attempt of [{ passwordHash: 'x' }, { createdAt: '2000-01-01' }, { mfaEnabled: true }, { lastLoginAt: '2000-01-01' }, { emailVerified: 'yes' }]) {
      await rejects(admin.caller.admin.users.update({ id: target.user.id, ...attempt } as never), 'BAD_REQUEST');
    }
    const [row] = await gh.deps.database.db.select().from(users).where(eq(users.id, target.user.id));
    expect(row).toMatchObject({ email: target.user.email, emailVerified: false });
  });

  it('disabling ends every session of the user and blocks sign-in; enabling lets them back', async () => {
    const target = await signIn(gh);
    await admin.caller.admin.users.update({ id: target.user.id, isActive: false });
    await rejects(target.caller.me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: target.tokens.refreshToken }), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.login(target.account), 'UNAUTHORIZED');
    expect(await gh.caller().auth.verify({ token: target.tokens.accessToken })).toEqual({ active: false });
    await admin.caller.admin.users.update({ id: target.user.id, isActive: true });
    await expect(gh.caller().auth.login(target.account)).resolves.toMatchObject({ tokenType: 'Bearer' });
    // The ended session stays ended.
    await rejects(gh.caller().auth.refresh({ refreshToken: target.tokens.refreshToken }), 'UNAUTHORIZED');
  });

  it('deletes: sessions end, sign-in fails, and the email can be registered again', async () => {
    const target = await signIn(gh);
    await expect(admin.caller.admin.users.delete({ id: target.user.id })).resolves.toEqual({ success: true });
    await rejects(target.caller.me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: target.tokens.refreshToken }), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.login(target.account), 'UNAUTHORIZED');
    await rejects(admin.caller.admin.users.get({ id: target.user.id }), 'NOT_FOUND');
    const again = tokensOf(await gh.caller().auth.register(target.account));
    expect(again.user.id).not.toBe(target.user.id);
    const events = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.type, 'user_deleted'), eq(authEvents.userId, target.user.id)));
    expect(events[0]).toMatchObject({ actorId: admin.user.id, metadata: { email: target.user.email } });
  });

  it('revokeSessions ends every session but leaves the account usable', async () => {
    const target = await signIn(gh);
    await expect(admin.caller.admin.users.revokeSessions({ id: target.user.id })).resolves.toEqual({ success: true });
    await rejects(target.caller.me.get(), 'UNAUTHORIZED');
    await rejects(gh.caller().auth.refresh({ refreshToken: target.tokens.refreshToken }), 'UNAUTHORIZED');
    await expect(gh.caller().auth.login(target.account)).resolves.toBeTruthy();
    await rejects(admin.caller.admin.users.revokeSessions({ id: crypto.randomUUID() }), 'NOT_FOUND');
  });
});

describe('admin.audit', () => {
  it('lists the trail with filters and a cursor, and reports suspicious activity; audit:read only', async () => {
    const plain = await signIn(gh);
    await rejects(plain.caller.admin.audit.list({}), 'FORBIDDEN');
    const created = await admin.caller.admin.users.create({ ...newAccount('audited') });
    const page = await admin.caller.admin.audit.list({ type: 'user_created', userId: created.id });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ type: 'user_created', actorId: admin.user.id, userId: created.id, success: true });

    const first = await admin.caller.admin.audit.list({ limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await admin.caller.admin.audit.list({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.id)).not.toContain(first.items[0]!.id);
    await rejects(admin.caller.admin.audit.list({ cursor: 'nope' }), 'BAD_REQUEST');

    for (let i = 0; i < 3; i += 1) await rejects(gh.caller().auth.login({ email: created.email, password: `Wrong-Guess-${i}` }), 'UNAUTHORIZED');
    const report = await admin.caller.admin.audit.suspicious({ windowMinutes: 5, threshold: 3 });
    expect(JSON.stringify(report)).toContain(created.email);
  });
});

describe('admin.users.list', () => {
  it('searches email and name, filters on role and isActive, and counts the matches', async () => {
    const tag = `srch${Date.now()}`;
    const alice = await admin.caller.admin.users.create({ email: `alice.${tag}@example.test`, password: 'Alice-Secret-123', name: 'Alice Zephyr' });
    await admin.caller.admin.users.create({ email: `bob.${tag}@example.test`, password: 'Bob-Secret-1234', name: 'Bob Zephyr', roles: ['user', 'admin'] });
    const carol = await admin.caller.admin.users.create({ email: `carol.${tag}@example.test`, password: 'Carol-Secret-12', name: 'Carol Quux' });
    await admin.caller.admin.users.update({ id: carol.id, isActive: false });

    const byTag = await admin.caller.admin.users.list({ search: tag });
    expect(byTag.total).toBe(3);
    expect(byTag.items.map((u) => u.email.split('.')[0])).toEqual(['carol', 'bob', 'alice']);
    const byName = await admin.caller.admin.users.list({ search: 'ZEPHYR' });
    expect(byName.items.map((u) => u.id)).toContain(alice.id);
    expect((await admin.caller.admin.users.list({ search: tag, role: 'admin' })).items.map((u) => u.email)).toEqual([`bob.${tag}@example.test`]);
    expect((await admin.caller.admin.users.list({ search: tag, isActive: false })).items.map((u) => u.id)).toEqual([carol.id]);
    expect((await admin.caller.admin.users.list({ search: tag, isActive: true, role: 'user' })).total).toBe(2);
    // LIKE wildcards are literal characters in a search.
    expect((await admin.caller.admin.users.list({ search: '%' })).total).toBe(0);
    expect((await admin.caller.admin.users.list({ search: `${tag.slice(0, 4)}_` })).total).toBe(0);
  });

  it('validates limit and cursor', async () => {
    await rejects(admin.caller.admin.users.list({ limit: 0 }), 'BAD_REQUEST');
    await rejects(admin.caller.admin.users.list({ limit: 101 }), 'BAD_REQUEST');
    await rejects(admin.caller.admin.users.list({ cursor: 'garbage' }), 'BAD_REQUEST');
    await expect(admin.caller.admin.users.list({ limit: 100 })).resolves.toHaveProperty('items');
  });

  it('walks more than two pages without duplicates or gaps while rows are inserted', async () => {
    const tag = `walk${Date.now()}`;
    const seeded: string[] = [];
    for (let i = 0; i < 23; i += 1) {
      const u = await admin.caller.admin.users.create({ email: `w${i}.${tag}@example.test`, password: 'Walk-Secret-123' });
      seeded.push(u.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.caller.admin.users.list({ search: tag, limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
      // Rows created mid-walk, matching the same search.
      await admin.caller.admin.users.create({ email: `late${pages}.${tag}@example.test`, password: 'Walk-Secret-123' });
    } while (cursor);
    expect(pages).toBe(5);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...seeded].sort());
    // Newest first, as created.
    expect(seen).toEqual([...seeded].reverse());
  });
});

describe('admin.roles and the last-admin guard', () => {
  it('lists, creates, updates and deletes roles; built-ins stay', async () => {
    const list = await admin.caller.admin.roles.list();
    expect(list.find((r) => r.name === 'admin')).toMatchObject({ builtIn: true, permissions: ['audit:read', 'clients:manage', 'resources:manage', 'roles:manage', 'users:delete', 'users:read', 'users:write'] });
    expect(list.find((r) => r.name === 'user')).toMatchObject({ builtIn: true, permissions: [] });

    const role = await admin.caller.admin.roles.create({ name: 'auditor', description: 'Reads the trail', permissions: ['audit:read'] });
    await rejects(admin.caller.admin.roles.create({ name: 'auditor', permissions: [] }), 'CONFLICT');
    await rejects(admin.caller.admin.roles.create({ name: 'x', permissions: ['users:fly'] } as never), 'BAD_REQUEST');
    const updated = await admin.caller.admin.roles.update({ id: role.id, permissions: ['audit:read', 'users:read'] });
    expect(updated.permissions).toEqual(['audit:read', 'users:read']);
    await expect(admin.caller.admin.roles.delete({ id: role.id })).resolves.toEqual({ success: true });

    const builtIn = list.find((r) => r.name === 'user')!;
    await rejects(admin.caller.admin.roles.delete({ id: builtIn.id }), 'CONFLICT');
    await rejects(admin.caller.admin.roles.update({ id: builtIn.id, name: 'member' }), 'CONFLICT');
    const adminRole = list.find((r) => r.name === 'admin')!;
    await rejects(admin.caller.admin.roles.update({ id: adminRole.id, permissions: ['users:read'] }), 'CONFLICT');
    const events = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.type, 'role_changed'), eq(authEvents.actorId, admin.user.id)));
    expect(events.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the last active admin', () => {
  let solo: TestServer;
  beforeAll(async () => {
    solo = await startTestServer();
  });
  afterAll(() => solo?.close());

  it('can never lose the role, be disabled or be deleted; a second admin lifts the guard', async () => {
    const only = await signIn(solo, ['admin', 'user']);
    const self = only.caller.admin.users;
    await rejects(self.update({ id: only.user.id, roles: ['user'] }), 'CONFLICT');
    await rejects(self.update({ id: only.user.id, isActive: false }), 'CONFLICT');
    await rejects(self.delete({ id: only.user.id }), 'CONFLICT');
    expect((await self.get({ id: only.user.id })).roles).toEqual(['admin', 'user']);

    // A disabled admin does not count as an admin.
    const dormant = await self.create({ ...newAccount('dormant'), roles: ['admin'] });
    await self.update({ id: dormant.id, isActive: false });
    await rejects(self.delete({ id: only.user.id }), 'CONFLICT');

    const secondAccount = newAccount('second');
    const second = await self.create({ ...secondAccount, roles: ['admin'] });
    await expect(self.update({ id: only.user.id, roles: ['user'] })).resolves.toMatchObject({ roles: ['user'] });
    // The demoted admin lost the permission at once; `second` is now the last admin.
    await rejects(self.list({}), 'FORBIDDEN');
    const tokens = tokensOf(await solo.caller().auth.login(secondAccount));
    const secondAdmin = solo.caller({ authorization: `Bearer ${tokens.accessToken}` }).admin.users;
    await rejects(secondAdmin.delete({ id: second.id }), 'CONFLICT');
    await rejects(secondAdmin.update({ id: second.id, isActive: false }), 'CONFLICT');
  });
});
