// The example protected resource, run for real: Gatehouse registers it, a role grants tasks:read, a
// user signs in for it, the service checks the token offline; a demotion shows in the next token.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTasksService } from '../../examples/tasks-service/src/app.ts';
import { newAccount, signIn, startTestServer, tokensOf, type TestServer } from '../helpers/server.ts';

const AUDIENCE = 'https://tasks.example';
let gh: TestServer;
let service: Server;
let tasksUrl: string;
beforeAll(async () => {
  gh = await startTestServer();
  service = createTasksService({ issuer: gh.deps.config.issuer, audience: AUDIENCE }).listen(0, '127.0.0.1');
  await new Promise((resolve) => service.once('listening', resolve));
  tasksUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
});
afterAll(async () => {
  service?.close();
  await gh?.close();
});

const call = (path: string, token?: string, body?: unknown) =>
  fetch(`${tasksUrl}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

it('guards the tasks API with permissions granted in Gatehouse, and a demotion reaches the next token', async () => {
  const admin = await signIn(gh, ['admin']);
  // 1. Register the resource; 2. a role with tasks:read.
  await admin.caller.admin.resources.create({ identifier: AUDIENCE, name: 'Tasks', permissions: [{ name: 'tasks:read', description: 'Read your tasks' }, { name: 'tasks:write', description: 'Add tasks' }] });
  await admin.caller.admin.roles.create({ name: 'tasks-reader', permissions: ['tasks:read'] });
  const account = newAccount();
  const user = await admin.caller.admin.users.create({ ...account, roles: ['user', 'tasks-reader'] });

  // 3. Sign in for that resource; 4. call the service.
  const tokens = tokensOf(await gh.caller().auth.login({ ...account, resource: AUDIENCE }));
  const read = await call(`/api/${user.id}/tasks`, tokens.accessToken);
  expect(read.status).toBe(200);
  expect(await read.json()).toEqual({ tasks: [] });
  expect((await call(`/api/${user.id}/tasks`, tokens.accessToken, { title: 'Write docs' })).status).toBe(403);
  expect((await call(`/api/${admin.user.id}/tasks`, tokens.accessToken)).status).toBe(403);
  expect((await call(`/api/${user.id}/tasks`)).status).toBe(401);
  expect((await call(`/api/${user.id}/tasks`, `${tokens.accessToken}x`)).status).toBe(401);
  // A token for Gatehouse's own API is not one for the tasks service.
  const own = await gh.caller().auth.refresh({ refreshToken: tokens.refreshToken });
  expect((await call(`/api/${user.id}/tasks`, own.accessToken)).status).toBe(401);

  // 5. Demote the user; 6. the next token has lost the permission.
  await admin.caller.admin.users.update({ id: user.id, roles: ['user'] });
  const next = await gh.caller().auth.refresh({ refreshToken: own.refreshToken, resource: AUDIENCE });
  expect((await call(`/api/${user.id}/tasks`, next.accessToken)).status).toBe(403);

  // Granted tasks:write, the user can add a task.
  await admin.caller.admin.roles.create({ name: 'tasks-writer', permissions: ['tasks:read', 'tasks:write'] });
  await admin.caller.admin.users.update({ id: user.id, roles: ['user', 'tasks-writer'] });
  const writer = await gh.caller().auth.refresh({ refreshToken: next.refreshToken, resource: AUDIENCE });
  const created = await call(`/api/${user.id}/tasks`, writer.accessToken, { title: 'Write docs' });
  expect(created.status).toBe(201);
  expect((await (await call(`/api/${user.id}/tasks`, writer.accessToken)).json()).tasks).toHaveLength(1);
});
