// A downstream resource server, as a user of the package would write it, on node:http, Koa and
// Express: /api/:userId/tasks for the owner only, /api/audit for holders of audit:read.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { generateKeyPair, SignJWT } from 'jose';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimsOf, requireToken, toExpress, toKoa, toNodeHttp, type Guard } from '../../client/src/middleware/index.ts';
import { createTokenVerifier } from '../../client/src/verifier/index.ts';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';
import { accessClaims, signWithServerKey, tamper } from '../helpers/tokens.ts';

interface Guards {
  owner: Guard;
  auditor: Guard;
  /** Its verifier's issuer does not answer. */
  unreachable: Guard;
}

const TASKS = /^\/api\/([^/]+)\/tasks$/;

function nodeServer(guards: Guards): Server {
  const owner = toNodeHttp(guards.owner);
  const auditor = toNodeHttp(guards.auditor);
  const unreachable = toNodeHttp(guards.unreachable);
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  return createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url ?? '/', 'http://localhost');
      const userId = TASKS.exec(pathname)?.[1];
      if (userId !== undefined) {
        const claims = await owner(req, res, { userId: decodeURIComponent(userId) });
        if (claims) json(res, 200, { owner: claims.sub, tasks: [] });
      } else if (pathname === '/api/audit') {
        if (await auditor(req, res)) json(res, 200, { events: [] });
      } else if (pathname === '/api/unreachable') {
        if (await unreachable(req, res)) json(res, 200, {});
      } else json(res, 404, {});
    } catch {
      json(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR' } });
    }
  });
}

function koaServer(guards: Guards): Server {
  const app = new Koa();
  app.silent = true;
  // A stand-in for @koa/router: sets ctx.params the way it would.
  const route = (pattern: RegExp, names: string[], guard: Guard, respond: (ctx: Koa.Context) => void): Koa.Middleware => {
    const protect = toKoa(guard);
    return async (ctx, next) => {
      const match = pattern.exec(ctx.path);
      if (!match) return next();
      ctx.params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
      await protect(ctx, async () => respond(ctx));
    };
  };
  app.use(route(TASKS, ['userId'], guards.owner, (ctx) => (ctx.body = { owner: ctx.state.auth.sub, tasks: [] })));
  app.use(route(/^\/api\/audit$/, [], guards.auditor, (ctx) => (ctx.body = { events: [] })));
  app.use(route(/^\/api\/unreachable$/, [], guards.unreachable, (ctx) => (ctx.body = {})));
  return createServer(app.callback());
}

function expressServer(guards: Guards): Server {
  const app = express();
  app.get('/api/:userId/tasks', toExpress(guards.owner), (_req, res) => {
    res.json({ owner: claimsOf(res).sub, tasks: [] });
  });
  app.get('/api/audit', toExpress(guards.auditor), (_req, res) => {
    res.json({ events: [] });
  });
  app.get('/api/unreachable', toExpress(guards.unreachable), (_req, res) => {
    res.json({});
  });
  // Express's default error handler prints the stack to stderr; this one answers quietly.
  app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR' } });
  });
  return createServer(app);
}

let gh: TestServer;
let user: { id: string; accessToken: string };
let other: { id: string };
const servers: Record<string, { server: Server; url: string }> = {};
const frameworks = { 'node:http': nodeServer, Koa: koaServer, Express: expressServer };

beforeAll(async () => {
  gh = await startTestServer();
  const { issuer, apiAudience: audience } = gh.deps.config;
  const verifier = createTokenVerifier({ issuer, audience });
  const guards: Guards = {
    owner: requireToken(verifier, { userIdParam: 'userId' }),
    auditor: requireToken(verifier, { permission: 'audit:read' }),
    unreachable: requireToken(createTokenVerifier({ issuer: 'http://127.0.0.1:9/oidc', audience })),
  };
  for (const [name, make] of Object.entries(frameworks)) {
    const server = make(guards);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers[name] = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }
  const session = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data;
  user = { id: session.user.id, accessToken: session.accessToken };
  other = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data.user;
});
afterAll(async () => {
  for (const { server } of Object.values(servers)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await gh?.close();
});

describe.each(Object.keys(frameworks))('a resource server on %s', (name) => {
  const get = async (path: string, token?: string, scheme = 'Bearer') => {
    const res = await fetch(`${servers[name]!.url}${path}`, { headers: token === undefined ? {} : { authorization: `${scheme} ${token}` } });
    const json = res.headers.get('content-type')?.startsWith('application/json');
    const body: any = json ? await res.json() : await res.text();
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body };
  };
  const tasksOf = (id: string) => `/api/${encodeURIComponent(id)}/tasks`;

  it("serves the owner's tasks", async () => {
    const res = await get(tasksOf(user.id), user.accessToken);
    expect(res).toMatchObject({ status: 200, body: { owner: user.id, tasks: [] } });
  });

  it('answers 401 with a Bearer challenge without a token, and never reads one from the query string', async () => {
    for (const path of [tasksOf(user.id), `${tasksOf(user.id)}?access_token=${user.accessToken}`]) {
      const res = await get(path);
      expect(res).toMatchObject({ status: 401, challenge: 'Bearer', body: { error: { code: 'UNAUTHORIZED' } } });
    }
    const basic = await get(tasksOf(user.id), user.accessToken, 'Basic');
    expect(basic.status).toBe(401);
  });

  it('answers 401 invalid_token for an expired, a tampered and a forged token', async () => {
    const expired = await signWithServerKey(gh, accessClaims(gh, user.id, { exp: Math.floor(Date.now() / 1000) - 60 }));
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(accessClaims(gh, user.id)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: gh.deps.keys.signing[0]!.kid }).sign(privateKey);
    const tampered = tamper(user.accessToken, { sub: other.id });
    for (const token of [expired, forged, tampered]) {
      const res = await get(tasksOf(user.id), token);
      expect(res.status).toBe(401);
      expect(res.challenge).toMatch(/^Bearer error="invalid_token"/);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    expect((await get(tasksOf(user.id), expired)).challenge).toMatch(/expired/);
  });

  it("answers 403 for another user's tasks", async () => {
    const res = await get(tasksOf(other.id), user.accessToken);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
  });

  it('answers 403 insufficient_scope without the permission, and 200 with it', async () => {
    const denied = await get('/api/audit', user.accessToken);
    expect(denied).toMatchObject({ status: 403, challenge: 'Bearer error="insufficient_scope"', body: { error: { code: 'FORBIDDEN' } } });
    const auditor = await signWithServerKey(gh, accessClaims(gh, user.id, { roles: ['auditor'], permissions: ['audit:read'] }));
    expect(await get('/api/audit', auditor)).toMatchObject({ status: 200, body: { events: [] } });
  });

  it('fails as a server error, not as a verdict, when the issuer cannot be reached', async () => {
    const res = await get('/api/unreachable', user.accessToken);
    expect(res.status).toBe(500);
  });
});
