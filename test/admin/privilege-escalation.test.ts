// What a signed-in account can reach beyond its own permissions: over HTTP, as an attacker holding
// a narrower role, or a third-party app holding a user's token, would try it.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents } from '../../db/schema/index.ts';
import { codeFlowTokens, webApp } from '../helpers/oidc-flow.ts';
import { newAccount, signIn, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let admin: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  gh = await startTestServer();
  admin = await signIn(gh, ['admin']);
  await admin.caller.admin.roles.create({ name: 'helpdesk', permissions: ['users:read', 'users:write'] });
  await admin.caller.admin.roles.create({ name: 'role-keeper', permissions: ['roles:manage', 'users:read'] });
});
afterAll(() => gh?.close());

const call = (path: string, input: unknown, authorization: string) => trpcHttp(gh.url, path, input, { headers: { authorization } });
const get = (path: string, input: unknown, authorization: string) => trpcHttp(gh.url, path, input, { method: 'GET', headers: { authorization } });

async function deniedRows(actorId: string, procedure: string) {
  const rows = await gh.deps.database.db.select().from(authEvents).where(and(eq(authEvents.type, 'access_denied'), eq(authEvents.actorId, actorId)));
  return rows.filter((row) => row.metadata.procedure === procedure);
}

describe('granting roles', () => {
  it('refuses a users:write holder that makes itself admin, and records it', async () => {
    const helpdesk = await signIn(gh, ['helpdesk']);
    const res = await call('admin.users.update', { id: helpdesk.user.id, roles: ['admin'] }, helpdesk.authorization);
    expect(res.status).toBe(403);
    expect(res.body.error.data.code).toBe('FORBIDDEN');
    expect((await admin.caller.admin.users.get({ id: helpdesk.user.id })).roles).toEqual(['helpdesk']);
    expect(await deniedRows(helpdesk.user.id, 'admin.users.update')).toHaveLength(1);
  });

  it('refuses creating an admin, and creates nothing', async () => {
    const helpdesk = await signIn(gh, ['helpdesk']);
    const account = newAccount('would-be-admin');
    const res = await call('admin.users.create', { ...account, roles: ['admin'] }, helpdesk.authorization);
    expect(res.status).toBe(403);
    expect((await admin.caller.admin.users.list({ search: account.email })).total).toBe(0);
  });

  it('refuses taking away a role whose permissions the actor does not hold', async () => {
    const helpdesk = await signIn(gh, ['helpdesk']);
    const other = await signIn(gh, ['admin', 'user']);
    expect((await call('admin.users.update', { id: other.user.id, roles: ['user'] }, helpdesk.authorization)).status).toBe(403);
    expect((await admin.caller.admin.users.get({ id: other.user.id })).roles).toEqual(['admin', 'user']);
  });

  it('lets an actor grant and remove the roles it could hold itself', async () => {
    const helpdesk = await signIn(gh, ['helpdesk']);
    const target = await signIn(gh, ['user']);
    const granted = await call('admin.users.update', { id: target.user.id, roles: ['user', 'helpdesk'] }, helpdesk.authorization);
    expect(granted.status).toBe(200);
    expect(granted.body.result.data.roles).toEqual(['helpdesk', 'user']);
    expect((await call('admin.users.update', { id: target.user.id, roles: ['user'] }, helpdesk.authorization)).status).toBe(200);
    expect((await call('admin.users.create', { ...newAccount(), roles: ['user'] }, helpdesk.authorization)).status).toBe(200);
  });
});

describe('shaping roles', () => {
  it('refuses putting into a role a permission the actor does not hold', async () => {
    const keeper = await signIn(gh, ['role-keeper']);
    const create = await call('admin.roles.create', { name: 'sneaky', permissions: ['roles:manage', 'users:delete'] }, keeper.authorization);
    expect(create.status).toBe(403);
    expect((await admin.caller.admin.roles.list()).some((role) => role.name === 'sneaky')).toBe(false);

    const own = await call('admin.roles.create', { name: 'keeper-two', permissions: ['users:read'] }, keeper.authorization);
    expect(own.status).toBe(200);
    const grow = await call('admin.roles.update', { id: own.body.result.data.id, permissions: ['users:read', 'users:write'] }, keeper.authorization);
    expect(grow.status).toBe(403);
    expect((await admin.caller.admin.roles.list()).find((role) => role.name === 'keeper-two')?.permissions).toEqual(['users:read']);
    expect(await deniedRows(keeper.user.id, 'admin.roles.update')).toHaveLength(1);
  });

  it('refuses stripping or deleting a role that holds permissions the actor does not', async () => {
    const keeper = await signIn(gh, ['role-keeper']);
    const strong = await admin.caller.admin.roles.create({ name: 'auditor', permissions: ['audit:read'] });
    expect((await call('admin.roles.update', { id: strong.id, permissions: [] }, keeper.authorization)).status).toBe(403);
    expect((await call('admin.roles.delete', { id: strong.id }, keeper.authorization)).status).toBe(403);
    expect((await admin.caller.admin.roles.list()).find((role) => role.name === 'auditor')?.permissions).toEqual(['audit:read']);
  });
});

describe('the access_denied trail', () => {
  it('writes one row per user and procedure a minute, however many refusals', async () => {
    const plain = await signIn(gh);
    const answers = await Promise.all(Array.from({ length: 25 }, () => get('admin.users.list', {}, plain.authorization)));
    expect(answers.every((res) => res.status === 403)).toBe(true);
    expect(await deniedRows(plain.user.id, 'admin.users.list')).toHaveLength(1);
    // Another procedure is another row.
    expect((await get('admin.roles.list', undefined, plain.authorization)).status).toBe(403);
    expect(await deniedRows(plain.user.id, 'admin.roles.list')).toHaveLength(1);
  });
});

describe('tokens of third-party apps', () => {
  it('cannot reach admin.* even when the user is an admin; the API scope still serves the user', async () => {
    const app = await webApp(gh, admin, { scopes: ['openid', 'offline_access', 'api'] });
    const tokens = await codeFlowTokens(gh, app, admin.account, { resource: `${gh.url}/api` });
    const authorization = `Bearer ${tokens.access_token}`;
    const denied = await get('admin.users.list', {}, authorization);
    expect(denied.status).toBe(403);
    expect(denied.body.error.data.code).toBe('FORBIDDEN');
    expect((await get('me.get', undefined, authorization)).status).toBe(200);
    // The same admin, signed in first-party, is served.
    expect((await get('admin.users.list', {}, admin.authorization)).status).toBe(200);
  });
});
