// API resources: registered audiences with their own permissions, granted through roles, in tokens
// minted by auth.login/auth.refresh, at /oidc/token (RFC 8707) and for client_credentials clients.
import { eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, roles } from '../../db/schema/index.ts';
import { insecure, issuerOf, oauthError } from '../helpers/oidc-flow.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let admin: Awaited<ReturnType<typeof signIn>>;
beforeAll(async () => {
  gh = await startTestServer();
  admin = await signIn(gh, ['admin']);
});
afterAll(() => gh?.close());

const rejects = (promise: Promise<unknown>, code: string) => expect(promise).rejects.toMatchObject({ code });
let serial = 0;
/** A resource of its own per test: permission names are unique across resources. */
async function registerResource(names: string[] = ['read', 'write']) {
  serial += 1;
  const prefix = `svc${serial}`;
  const identifier = `https://${prefix}.example/api`;
  const permissions = names.map((n) => ({ name: `${prefix}:${n}`, description: `${n} ${prefix} things` }));
  await admin.caller.admin.resources.create({ identifier, name: `Service ${serial}`, permissions });
  return { identifier, prefix, perm: (n: string) => `${prefix}:${n}` };
}

describe('admin.resources', () => {
  it('registers, lists, updates and deletes a resource; the built-in API comes first and is fixed', async () => {
    const created = await admin.caller.admin.resources.create({
      identifier: 'https://tasks.example',
      name: 'Tasks',
      permissions: [{ name: 'tasks:read', description: 'Read your tasks' }, { name: 'tasks:write' }],
      accessTokenTtl: 300,
    });
    expect(created).toMatchObject({ identifier: 'https://tasks.example', builtIn: false, accessTokenTtl: 300, permissions: [{ name: 'tasks:read', description: 'Read your tasks' }, { name: 'tasks:write', description: null }] });

    const list = await admin.caller.admin.resources.list();
    expect(list[0]).toMatchObject({ identifier: `${gh.url}/api`, builtIn: true });
    expect(list[0]!.permissions.map((p) => p.name)).toContain('resources:manage');
    expect(list.find((r) => r.identifier === 'https://tasks.example')).toEqual(created);

    const updated = await admin.caller.admin.resources.update({ identifier: 'https://tasks.example', name: 'Tasks API', accessTokenTtl: null });
    expect(updated).toMatchObject({ name: 'Tasks API', accessTokenTtl: null, permissions: created.permissions });

    await admin.caller.admin.resources.delete({ identifier: 'https://tasks.example' });
    expect((await admin.caller.admin.resources.list()).some((r) => r.identifier === 'https://tasks.example')).toBe(false);
    const trail = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.type, 'resource_changed'));
    expect(trail.filter((e) => (e.metadata as { identifier?: string }).identifier === 'https://tasks.example').map((e) => (e.metadata as { action: string }).action)).toEqual(['created', 'updated', 'deleted']);
    expect(trail.every((e) => e.actorId === admin.user.id)).toBe(true);
  });

  it('refuses changes to the built-in API, taken and reserved names, and bad input, changing nothing', async () => {
    const builtIn = `${gh.url}/api`;
    await rejects(admin.caller.admin.resources.update({ identifier: builtIn, name: 'Mine' }), 'CONFLICT');
    await rejects(admin.caller.admin.resources.delete({ identifier: builtIn }), 'CONFLICT');
    await rejects(admin.caller.admin.resources.create({ identifier: builtIn, name: 'Again', permissions: [] }), 'CONFLICT');

    const { identifier, perm } = await registerResource();
    await rejects(admin.caller.admin.resources.create({ identifier: 'https://other.example', name: 'Other', permissions: [{ name: perm('read') }] }), 'CONFLICT');
    await rejects(admin.caller.admin.resources.create({ identifier, name: 'Twice', permissions: [] }), 'CONFLICT');
    await rejects(admin.caller.admin.resources.create({ identifier: 'https://other.example', name: 'Other', permissions: [{ name: 'users:read' }] }), 'CONFLICT');
    await rejects(admin.caller.admin.resources.create({ identifier: 'https://other.example', name: 'Other', permissions: [{ name: 'openid' }] }), 'CONFLICT');
    await rejects(admin.caller.admin.resources.create({ identifier: 'https://other.example', name: 'Other', permissions: [{ name: 'x' }, { name: 'x' }] }), 'BAD_REQUEST');
    expect((await admin.caller.admin.resources.list()).some((r) => r.identifier === 'https://other.example')).toBe(false);

    for (const input of [
      { identifier: 'not a url', name: 'Bad', permissions: [] },
      { identifier: 'https://frag.example/#x', name: 'Bad', permissions: [] },
      { identifier: 'https://ok.example', name: 'Bad', permissions: [{ name: 'has space' }] },
      { identifier: 'https://ok.example', name: 'Bad', permissions: [], accessTokenTtl: 5 },
    ]) {
      const res = await trpcHttp(gh.url, 'admin.resources.create', input, { headers: { authorization: admin.authorization } });
      expect(res.status, JSON.stringify(input)).toBe(400);
    }
    await rejects(admin.caller.admin.resources.update({ identifier: 'https://nowhere.example', name: 'X' }), 'NOT_FOUND');
  });

  it('is for resources:manage only', async () => {
    const plain = await signIn(gh);
    const res = await trpcHttp(gh.url, 'admin.resources.list', undefined, { method: 'GET', headers: { authorization: plain.authorization } });
    expect(res.status).toBe(403);
  });

  it('takes a dropped or deleted permission out of every role', async () => {
    const { identifier, perm } = await registerResource(['read', 'write', 'admin']);
    const role = await admin.caller.admin.roles.create({ name: `editor-${serial}`, permissions: [perm('read'), perm('write'), perm('admin'), 'users:read'] });
    await admin.caller.admin.resources.update({ identifier, permissions: [{ name: perm('read') }, { name: perm('write') }] });
    const [afterUpdate] = await gh.deps.database.db.select().from(roles).where(eq(roles.id, role.id));
    expect(afterUpdate!.permissions.toSorted()).toEqual([perm('read'), perm('write'), 'users:read'].toSorted());
    await admin.caller.admin.resources.delete({ identifier });
    const [afterDelete] = await gh.deps.database.db.select().from(roles).where(eq(roles.id, role.id));
    expect(afterDelete!.permissions).toEqual(['users:read']);
  });

  it('lets roles hold only permissions that exist, and only an actor who holds them (or manages resources) grant them', async () => {
    const { perm } = await registerResource();
    await rejects(admin.caller.admin.roles.create({ name: `ghost-${serial}`, permissions: ['nobody:defines-this'] }), 'BAD_REQUEST');
    // A role manager without resources:manage cannot hand out a resource's permission it does not hold.
    await admin.caller.admin.roles.create({ name: `rolemgr-${serial}`, permissions: ['roles:manage'] });
    const manager = await signIn(gh, [`rolemgr-${serial}`]);
    await rejects(manager.caller.admin.roles.create({ name: `grab-${serial}`, permissions: [perm('read')] }), 'FORBIDDEN');
    // The admin role always keeps every permission of Gatehouse's API, and may hold more.
    const adminRole = (await admin.caller.admin.roles.list()).find((r) => r.name === 'admin')!;
    await rejects(admin.caller.admin.roles.update({ id: adminRole.id, permissions: adminRole.permissions.filter((p) => p !== 'resources:manage') }), 'CONFLICT');
    await admin.caller.admin.roles.update({ id: adminRole.id, permissions: [...adminRole.permissions, perm('read')] });
    await admin.caller.admin.roles.update({ id: adminRole.id, permissions: adminRole.permissions });
  });
});

describe('tokens for a resource', () => {
  it('auth.login and auth.refresh with resource: aud is the resource, permissions only its own, the same session', async () => {
    const { identifier, perm } = await registerResource();
    await admin.caller.admin.roles.create({ name: `reader-${serial}`, permissions: [perm('read'), 'users:read'] });
    const account = newAccount();
    await admin.caller.admin.users.create({ ...account, roles: ['user', `reader-${serial}`] });

    const login = await trpcHttp(gh.url, 'auth.login', { ...account, resource: identifier });
    expect(login.status).toBe(200);
    const claims = decodeJwt(login.body.result.data.accessToken);
    expect(claims).toMatchObject({ aud: identifier, permissions: [perm('read')], client_id: 'gatehouse' });
    expect(claims.sid).toEqual(expect.any(String));
    // A token for another resource is no token for Gatehouse's own API.
    const me = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${login.body.result.data.accessToken}` } });
    expect(me.status).toBe(401);

    // The refresh token of that sign-in gets Gatehouse's API by default, and the resource when asked.
    const own = await gh.caller().auth.refresh({ refreshToken: login.body.result.data.refreshToken });
    expect(decodeJwt(own.accessToken)).toMatchObject({ aud: `${gh.url}/api`, permissions: ['users:read'], sid: claims.sid });
    const again = await gh.caller().auth.refresh({ refreshToken: own.refreshToken, resource: identifier });
    expect(decodeJwt(again.accessToken)).toMatchObject({ aud: identifier, permissions: [perm('read')], sid: claims.sid });
    expect(await gh.caller().auth.verify({ token: again.accessToken })).toMatchObject({ active: true, permissions: [perm('read')], sid: claims.sid });

    // A demotion shows in auth.verify at once and in the next token.
    const user = login.body.result.data.user;
    await admin.caller.admin.users.update({ id: user.id, roles: ['user'] });
    expect(await gh.caller().auth.verify({ token: again.accessToken })).toMatchObject({ active: true, permissions: [] });
    const demoted = await gh.caller().auth.refresh({ refreshToken: again.refreshToken, resource: identifier });
    expect(decodeJwt(demoted.accessToken).permissions).toEqual([]);
    // Logout ends the session for every resource's token in auth.verify.
    await gh.caller().auth.logout({ refreshToken: demoted.refreshToken });
    expect(await gh.caller().auth.verify({ token: demoted.accessToken })).toEqual({ active: false });
  });

  it('gives an unregistered resource 400 on tRPC, before the password or the refresh token is touched', async () => {
    const account = newAccount();
    await admin.caller.admin.users.create({ ...account, roles: ['user'] });
    const login = await trpcHttp(gh.url, 'auth.login', { ...account, resource: 'https://unknown.example' });
    expect(login.status).toBe(400);
    expect(login.body.error.data.fieldErrors.resource).toBeDefined();
    const tokens = tokensOf(await gh.caller().auth.login(account));
    const refresh = await trpcHttp(gh.url, 'auth.refresh', { refreshToken: tokens.refreshToken, resource: 'https://unknown.example' });
    expect(refresh.status).toBe(400);
    // The refresh token is not spent: it still refreshes once.
    await expect(gh.caller().auth.refresh({ refreshToken: tokens.refreshToken })).resolves.toHaveProperty('accessToken');
  });

  it('serves RFC 8707 at /oidc/token with the same refresh token, and invalid_target without spending it', async () => {
    const { identifier, perm } = await registerResource();
    await admin.caller.admin.roles.create({ name: `r8707-${serial}`, permissions: [perm('write')] });
    const account = newAccount();
    await admin.caller.admin.users.create({ ...account, roles: [`r8707-${serial}`] });
    const tokens = tokensOf(await gh.caller().auth.login(account));
    const post = (form: Record<string, string>) =>
      fetch(`${gh.url}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });

    const refused = await post({ grant_type: 'refresh_token', client_id: 'gatehouse', refresh_token: tokens.refreshToken, resource: 'https://unknown.example' });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toBe('invalid_target');

    const res = await post({ grant_type: 'refresh_token', client_id: 'gatehouse', refresh_token: tokens.refreshToken, resource: identifier });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: identifier, permissions: [perm('write')] });
    expect(body.refresh_token).not.toBe(tokens.refreshToken);
  });

  it('applies the resource\'s own token lifetime', async () => {
    serial += 1;
    const identifier = `https://short${serial}.example`;
    await admin.caller.admin.resources.create({ identifier, name: 'Short', permissions: [], accessTokenTtl: 120 });
    const account = newAccount();
    await admin.caller.admin.users.create({ ...account, roles: ['user'] });
    const tokens = tokensOf(await gh.caller().auth.login({ ...account, resource: identifier }));
    const { exp, iat } = decodeJwt(tokens.accessToken);
    expect(exp! - iat!).toBe(120);
  });
});

describe('machine-to-machine', () => {
  async function machine(roleNames: string[]) {
    const created = await admin.caller.admin.clients.create({ name: 'Provisioner', grantTypes: ['client_credentials'], scopes: ['api'], roles: roleNames });
    const config = await oidc.discovery(issuerOf(gh), created.clientId, undefined, oidc.ClientSecretBasic(created.clientSecret!), insecure);
    return { ...created, config };
  }

  it('a client_credentials client with users:write creates a user over HTTP; audited with the client as actor', async () => {
    await admin.caller.admin.roles.create({ name: `provisioner-${serial}`, permissions: ['users:write'] });
    const svc = await machine([`provisioner-${serial}`]);
    expect((await admin.caller.admin.clients.list()).find((c) => c.clientId === svc.clientId)!.roles).toEqual([`provisioner-${serial}`]);
    const tokens = await oidc.clientCredentialsGrant(svc.config, { resource: `${gh.url}/api` });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: svc.clientId, roles: [`provisioner-${serial}`], permissions: ['users:write'] });

    const account = newAccount('provisioned');
    const created = await trpcHttp(gh.url, 'admin.users.create', { ...account, roles: ['user'] }, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(created.status).toBe(200);
    const [event] = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, created.body.result.data.id));
    expect(event).toMatchObject({ type: 'user_created', actorId: null, metadata: { actorClientId: svc.clientId } });
    // It cannot do what its roles do not grant, nor hand out roles above its own.
    const list = await trpcHttp(gh.url, 'admin.users.list', {}, { method: 'GET', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(list.status).toBe(403);
    const escalate = await trpcHttp(gh.url, 'admin.users.create', { ...newAccount(), roles: ['admin'] }, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(escalate.status).toBe(403);
    // Signed-in procedures are still for users.
    const me = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(401);

    // auth.verify reports the client's live permissions; taking the role away applies at once.
    expect(await gh.caller().auth.verify({ token: tokens.access_token })).toMatchObject({ active: true, sub: svc.clientId, sid: null, permissions: ['users:write'] });
    await admin.caller.admin.clients.update({ clientId: svc.clientId, roles: [] });
    expect(await gh.caller().auth.verify({ token: tokens.access_token })).toMatchObject({ active: true, permissions: [] });
    const after = await trpcHttp(gh.url, 'admin.users.create', { ...newAccount(), roles: ['user'] }, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(after.status).toBe(403);
  });

  it('client_credentials for a registered resource carry the roles\' permissions on it only', async () => {
    const { identifier, perm } = await registerResource();
    await admin.caller.admin.roles.create({ name: `worker-${serial}`, permissions: [perm('read'), perm('write'), 'users:read'] });
    const svc = await machine([`worker-${serial}`]);
    const all = await oidc.clientCredentialsGrant(svc.config, { resource: identifier });
    expect(decodeJwt(all.access_token)).toMatchObject({ aud: identifier, permissions: [perm('read'), perm('write')] });
    // Asking for a scope narrows the token to it.
    const narrow = await oidc.clientCredentialsGrant(svc.config, { resource: identifier, scope: perm('read') });
    expect(decodeJwt(narrow.access_token)).toMatchObject({ permissions: [perm('read')], scope: perm('read') });
    expect(await gh.caller().auth.verify({ token: narrow.access_token })).toMatchObject({ active: true, permissions: [perm('read')] });
    expect(await oauthError(oidc.clientCredentialsGrant(svc.config, { resource: 'https://unknown.example' }))).toBe('invalid_target');
  });

  it('refuses roles on a client without client_credentials, unknown roles, and roles above the actor', async () => {
    await rejects(admin.caller.admin.clients.create({ name: 'Web', grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb'], roles: ['admin'] }), 'BAD_REQUEST');
    await rejects(admin.caller.admin.clients.create({ name: 'Svc', grantTypes: ['client_credentials'], roles: ['no-such-role'] }), 'BAD_REQUEST');
    await admin.caller.admin.roles.create({ name: `clientmgr-${serial}`, permissions: ['clients:manage'] });
    const manager = await signIn(gh, [`clientmgr-${serial}`]);
    await rejects(manager.caller.admin.clients.create({ name: 'Svc', grantTypes: ['client_credentials'], roles: ['admin'] }), 'FORBIDDEN');
  });
});
