// client.tokenFor(resource): access tokens for other APIs from the client's one session. First
// against a fake Gatehouse behind the client's `fetch` option, which counts and times every
// refresh and, like the real one, ends the session when a refresh token is used twice; then
// against the real service over HTTP.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatehouseClient,
  isRefreshRefused,
  isResourceRefused,
  isUnauthorized,
  TRPCClientError,
  type GatehouseClientOptions,
  type TokenSet,
  type Tokens,
} from '../../client/src/index.ts';
import { newAccount, signIn, startTestServer, tokensOf, type TestServer } from '../helpers/server.ts';
import { accessClaims, signWithServerKey } from '../helpers/tokens.ts';

const API = 'https://gatehouse.test/api';
const TASKS = 'https://tasks.test/api';
const FILES = 'https://files.test/api';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An unsigned JWT: the client only reads its claims. */
const jwt = (claims: Record<string, unknown>) => `${encode({ alg: 'none' })}.${encode(claims)}.x`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

type Reply = { status: number; body: unknown };
const data = (value: unknown): Reply => ({ status: 200, body: { result: { data: value } } });
const failure = (code: 'UNAUTHORIZED' | 'BAD_REQUEST', httpStatus: number, extra: Record<string, unknown> = {}): Reply => ({
  status: httpStatus,
  body: { error: { message: code, code: code === 'UNAUTHORIZED' ? -32001 : -32600, data: { code, httpStatus, ...extra } } },
});

/**
 * A fake Gatehouse with one user: refresh tokens rotate, a spent one used again revokes its
 * session, `resource` must be registered, and each refresh takes `delayMs` so that refreshes the
 * client failed to serialize would overlap.
 */
function fakeGatehouse({ ttlSeconds = 300, delayMs = 15 } = {}) {
  const user = { id: 'user-1', email: 'ada@example.test', name: 'Ada', roles: ['user'] };
  const registered = new Set([API, TASKS, FILES]);
  const sessions = new Map<string, { live: string | null; revoked: boolean }>();
  const sessionOf = new Map<string, string>(); // every refresh token ever issued -> its session
  let serial = 0;
  let active = 0;
  const log = { refreshes: [] as { refreshToken: string; resource: string | undefined }[], maxConcurrentRefreshes: 0, reuses: 0, paths: [] as string[] };
  let hold: Promise<void> | null = null;

  function tokenSet(sid: string, aud: string): TokenSet {
    serial += 1;
    const refreshToken = `rt-${serial}`;
    sessions.get(sid)!.live = refreshToken;
    sessionOf.set(refreshToken, sid);
    const accessToken = jwt({ aud, sub: user.id, sid, jti: `at-${serial}`, exp: nowSeconds() + ttlSeconds });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: ttlSeconds, user } as unknown as TokenSet;
  }

  function signIn(): TokenSet {
    const sid = `sid-${serial + 1}`;
    sessions.set(sid, { live: null, revoked: false });
    return tokenSet(sid, API);
  }

  async function refresh(input: { refreshToken: string; resource?: string }): Promise<Reply> {
    log.refreshes.push({ refreshToken: input.refreshToken, resource: input.resource });
    active += 1;
    log.maxConcurrentRefreshes = Math.max(log.maxConcurrentRefreshes, active);
    try {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await hold;
      // Like the real service: the resource is checked first, and the refresh token is not spent.
      if (input.resource !== undefined && !registered.has(input.resource)) {
        return failure('BAD_REQUEST', 400, { fieldErrors: { resource: ['Not a registered API resource'] } });
      }
      const sid = sessionOf.get(input.refreshToken);
      const session = sid === undefined ? undefined : sessions.get(sid);
      if (!session || session.revoked) return failure('UNAUTHORIZED', 401);
      if (session.live !== input.refreshToken) {
        log.reuses += 1;
        session.revoked = true;
        return failure('UNAUTHORIZED', 401);
      }
      return data(tokenSet(sid!, input.resource ?? API));
    } finally {
      active -= 1;
    }
  }

  const fetch: typeof globalThis.fetch = async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = url.pathname.replace(/^\/trpc\//, '');
    log.paths.push(path);
    const body = typeof init.body === 'string' && init.body !== '' ? JSON.parse(init.body) : undefined;
    let reply: Reply;
    if (path === 'auth.refresh') reply = await refresh(body);
    else if (path === 'auth.login') reply = data(signIn());
    else if (path === 'auth.logout') {
      const sid = sessionOf.get(body?.refreshToken);
      if (sid) sessions.get(sid)!.revoked = true;
      reply = data({ success: true });
    } else if (path === 'me.get') {
      const bearer = new Headers(init.headers).get('authorization')?.replace(/^Bearer /, '');
      const claims = bearer ? decodeJwt(bearer) : undefined;
      const alive = claims && claims.aud === API && claims.exp! > nowSeconds() && !sessions.get(String(claims.sid))?.revoked;
      reply = alive ? data(user) : failure('UNAUTHORIZED', 401);
    } else reply = { status: 404, body: { error: { message: 'not found', code: -32004, data: { code: 'NOT_FOUND', httpStatus: 404 } } } };
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: { 'content-type': 'application/json' } });
  };

  return {
    fetch,
    log,
    signIn,
    count: (path: string) => log.paths.filter((p) => p === path).length,
    /** An access token of Gatehouse's API for the session of `tokens` that has expired. */
    expired: (tokens: Tokens) => jwt({ ...decodeJwt(tokens.accessToken), exp: nowSeconds() - 60 }),
    /** Holds every refresh's answer until the returned function is called. */
    holdRefreshes() {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = null;
        release();
      };
    },
  };
}

function fakeClient(options: Partial<GatehouseClientOptions> & { fake?: ReturnType<typeof fakeGatehouse> } = {}) {
  const fake = options.fake ?? fakeGatehouse();
  const changes: (TokenSet | null)[] = [];
  const gatehouse = createGatehouseClient({ url: 'https://gatehouse.test', fetch: fake.fetch, onTokens: (tokens) => changes.push(tokens), ...options });
  return { fake, gatehouse, changes };
}

const audOf = (token: string) => decodeJwt(token).aud;
const rejectionOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('tokenFor, against a fake Gatehouse', () => {
  it('gets a token for the resource, keeps the main access token, and adopts the rotated refresh token', async () => {
    const fake = fakeGatehouse();
    const session = fake.signIn();
    const { gatehouse, changes } = fakeClient({ fake, tokens: session });

    const token = await gatehouse.tokenFor(TASKS);

    expect(audOf(token)).toBe(TASKS);
    expect(fake.log.refreshes).toEqual([{ refreshToken: session.refreshToken, resource: TASKS }]);
    const rotated = gatehouse.$tokens.get()!;
    expect(rotated.accessToken).toBe(session.accessToken);
    expect(rotated.refreshToken).not.toBe(session.refreshToken);
    // onTokens hears of the rotation with the session's set, ready to persist: the main access token.
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ accessToken: session.accessToken, refreshToken: rotated.refreshToken, tokenType: 'Bearer', user: session.user });
    expect(changes[0]!.expiresIn).toBeGreaterThan(290);
    expect(changes[0]!.expiresIn).toBeLessThanOrEqual(300);
    // The main token still works, and the next main refresh sends the rotated refresh token.
    await expect(gatehouse.me.get.query()).resolves.toMatchObject({ id: session.user.id });
    gatehouse.$tokens.set({ accessToken: fake.expired(session), refreshToken: rotated.refreshToken });
    await gatehouse.me.get.query();
    expect(fake.log.refreshes.at(-1)).toEqual({ refreshToken: rotated.refreshToken, resource: undefined });
    expect(fake.log.reuses).toBe(0);
  });

  it('answers from its cache while the token is not about to expire: no second request', async () => {
    const fake = fakeGatehouse();
    const { gatehouse } = fakeClient({ fake, tokens: fake.signIn() });

    const first = await gatehouse.tokenFor(TASKS);
    const second = await gatehouse.tokenFor(TASKS);

    expect(second).toBe(first);
    expect(fake.count('auth.refresh')).toBe(1);
    // Another resource is another token.
    expect(audOf(await gatehouse.tokenFor(FILES))).toBe(FILES);
    expect(await gatehouse.tokenFor(TASKS)).toBe(first);
    expect(fake.count('auth.refresh')).toBe(2);
  });

  it('refreshes a kept token that expires within refreshMarginSeconds', async () => {
    const fake = fakeGatehouse({ ttlSeconds: 60 });
    const { gatehouse } = fakeClient({ fake, tokens: fake.signIn(), refreshMarginSeconds: 120 });

    const first = await gatehouse.tokenFor(TASKS);
    const second = await gatehouse.tokenFor(TASKS);

    expect(second).not.toBe(first);
    expect(audOf(second)).toBe(TASKS);
    expect(fake.count('auth.refresh')).toBe(2);
    expect(fake.log.reuses).toBe(0);
  });

  it('shares one refresh between concurrent calls for one resource', async () => {
    const fake = fakeGatehouse();
    const { gatehouse, changes } = fakeClient({ fake, tokens: fake.signIn() });

    const tokens = await Promise.all(Array.from({ length: 5 }, () => gatehouse.tokenFor(TASKS)));

    expect(new Set(tokens).size).toBe(1);
    expect(fake.count('auth.refresh')).toBe(1);
    expect(changes).toHaveLength(1);
  });

  it('serializes every refresh, the main token\'s too: no refresh token is sent twice', async () => {
    const fake = fakeGatehouse();
    const session = fake.signIn();
    const { gatehouse, changes } = fakeClient({ fake, tokens: { accessToken: fake.expired(session), refreshToken: session.refreshToken } });

    const [tasks, me, files, again, meAgain] = await Promise.all([
      gatehouse.tokenFor(TASKS),
      gatehouse.me.get.query(),
      gatehouse.tokenFor(FILES),
      gatehouse.tokenFor(TASKS),
      gatehouse.me.get.query(),
    ]);

    expect(audOf(tasks)).toBe(TASKS);
    expect(audOf(files)).toBe(FILES);
    expect(again).toBe(tasks);
    expect(me.id).toBe(session.user.id);
    expect(meAgain.id).toBe(session.user.id);
    // One refresh per token, one at a time, each with the refresh token the previous one left.
    expect(fake.log.refreshes.map((r) => r.resource).sort()).toEqual([FILES, TASKS, undefined].sort());
    expect(fake.log.maxConcurrentRefreshes).toBe(1);
    expect(new Set(fake.log.refreshes.map((r) => r.refreshToken)).size).toBe(3);
    expect(fake.log.reuses).toBe(0);
    expect(changes).toHaveLength(3);
    // The main access token is the fresh one the main refresh got, never a resource's; what
    // onTokens heard last is what the client holds.
    const held = gatehouse.$tokens.get()!;
    expect(decodeJwt(held.accessToken)).toMatchObject({ aud: API, exp: expect.any(Number) });
    expect(decodeJwt(held.accessToken).exp).toBeGreaterThan(nowSeconds());
    expect(changes.every((c) => audOf(c!.accessToken) === API)).toBe(true);
    expect({ accessToken: changes.at(-1)!.accessToken, refreshToken: changes.at(-1)!.refreshToken }).toEqual(held);
    expect(fake.count('me.get')).toBe(2);
    // The main token's refresh left the resources' tokens in place.
    expect(await gatehouse.tokenFor(TASKS)).toBe(tasks);
    expect(fake.count('auth.refresh')).toBe(3);
  });

  it('takes an auth.refresh for a resource made through the client as tokenFor would', async () => {
    const fake = fakeGatehouse();
    const session = fake.signIn();
    const { gatehouse, changes } = fakeClient({ fake, tokens: session });

    const got = await gatehouse.auth.refresh.mutate({ refreshToken: session.refreshToken, resource: TASKS });

    expect(gatehouse.$tokens.get()).toEqual({ accessToken: session.accessToken, refreshToken: got.refreshToken });
    expect(changes).toEqual([{ ...got, accessToken: session.accessToken, expiresIn: expect.any(Number) }]);
    expect(await gatehouse.tokenFor(TASKS)).toBe(got.accessToken);
    expect(fake.count('auth.refresh')).toBe(1);
  });

  it('ends the session when the refresh token is refused: onTokens(null), and tokenFor rejects', async () => {
    const fake = fakeGatehouse();
    const { gatehouse, changes } = fakeClient({ fake, tokens: { accessToken: fake.signIn().accessToken, refreshToken: 'revoked-refresh-token' } });

    const errors = await Promise.all([rejectionOf(gatehouse.tokenFor(TASKS)), rejectionOf(gatehouse.tokenFor(TASKS))]);

    for (const error of errors) {
      expect(error).toBeInstanceOf(TRPCClientError);
      expect(isRefreshRefused(error)).toBe(true);
    }
    expect(fake.count('auth.refresh')).toBe(1);
    expect(changes).toEqual([null]);
    expect(gatehouse.$tokens.get()).toBeNull();
  });

  it('rejects with UNAUTHORIZED, sending nothing, when there is no session', async () => {
    const { fake, gatehouse, changes } = fakeClient();

    const error = await rejectionOf(gatehouse.tokenFor(TASKS));

    expect(error).toBeInstanceOf(TRPCClientError);
    expect(isUnauthorized(error)).toBe(true);
    expect((error as Error).message).toMatch(/not signed in/i);
    expect(fake.log.paths).toEqual([]);
    expect(changes).toEqual([]);
  });

  it('keeps the session when the server refuses the resource, and when the network fails', async () => {
    const fake = fakeGatehouse();
    const session = fake.signIn();
    let offline = false;
    const fetch: typeof globalThis.fetch = (input, init) => (offline ? Promise.reject(new TypeError('network down')) : fake.fetch(input, init));
    const { gatehouse, changes } = fakeClient({ fake, fetch, tokens: session });

    const unknown = await rejectionOf(gatehouse.tokenFor('https://unknown.test'));
    expect(isResourceRefused(unknown)).toBe(true);
    expect(isRefreshRefused(unknown)).toBe(false);

    offline = true;
    const down = await rejectionOf(gatehouse.tokenFor(TASKS));
    expect((down as Error).message).toMatch(/network down/);
    expect(isRefreshRefused(down)).toBe(false);

    expect(changes).toEqual([]);
    expect(gatehouse.$tokens.get()).toEqual({ accessToken: session.accessToken, refreshToken: session.refreshToken });
    offline = false;
    expect(audOf(await gatehouse.tokenFor(TASKS))).toBe(TASKS);
    expect(fake.log.reuses).toBe(0);
  });

  it('forgets the resources\' tokens on $tokens.set(null), a new sign-in and a sign-out', async () => {
    const fake = fakeGatehouse();
    const session = fake.signIn();
    const { gatehouse } = fakeClient({ fake, tokens: session });
    const first = await gatehouse.tokenFor(TASKS);

    const kept = gatehouse.$tokens.get()!;
    gatehouse.$tokens.set(null);
    expect(isUnauthorized(await rejectionOf(gatehouse.tokenFor(TASKS)))).toBe(true);
    gatehouse.$tokens.set(kept);
    const second = await gatehouse.tokenFor(TASKS);
    expect(second).not.toBe(first);
    expect(fake.count('auth.refresh')).toBe(2);

    await gatehouse.auth.login.mutate({ email: 'ada@example.test', password: 'Correct-Horse-1-Battery' });
    const third = await gatehouse.tokenFor(TASKS);
    expect(third).not.toBe(second);
    expect(decodeJwt(third).sid).not.toBe(decodeJwt(second).sid);
    expect(fake.count('auth.refresh')).toBe(3);

    await gatehouse.auth.logout.mutate({ refreshToken: gatehouse.$tokens.get()!.refreshToken });
    expect(gatehouse.$tokens.get()).toBeNull();
    expect(isUnauthorized(await rejectionOf(gatehouse.tokenFor(TASKS)))).toBe(true);
    expect(fake.count('auth.refresh')).toBe(3);
  });

  it('drops a refresh that a new session overtook, and gets the token from the new session', async () => {
    const fake = fakeGatehouse();
    const old = fake.signIn();
    const { gatehouse, changes } = fakeClient({ fake, tokens: old });
    const release = fake.holdRefreshes();

    const pending = gatehouse.tokenFor(TASKS);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const fresh = fake.signIn();
    gatehouse.$tokens.set(fresh);
    release();
    const token = await pending;

    expect(decodeJwt(token)).toMatchObject({ aud: TASKS, sid: decodeJwt(fresh.accessToken).sid });
    expect(fake.log.refreshes.map((r) => r.refreshToken)).toEqual([old.refreshToken, fresh.refreshToken]);
    // Only the new session's rotation reached onTokens.
    expect(changes).toHaveLength(1);
    expect(changes[0]!.accessToken).toBe(fresh.accessToken);
    expect(gatehouse.$tokens.get()!.accessToken).toBe(fresh.accessToken);
  });

  it('fails the call when onTokens throws, keeping the rotated refresh token', async () => {
    const fake = fakeGatehouse();
    const session = fake.signIn();
    const gatehouse = createGatehouseClient({
      url: 'https://gatehouse.test',
      fetch: fake.fetch,
      tokens: session,
      onTokens: () => {
        throw new Error('storage full');
      },
    });

    await expect(gatehouse.tokenFor(TASKS)).rejects.toThrow('storage full');
    expect(gatehouse.$tokens.get()!.refreshToken).not.toBe(session.refreshToken);
    // The token got is kept: no second refresh.
    expect(audOf(await gatehouse.tokenFor(TASKS))).toBe(TASKS);
    expect(fake.count('auth.refresh')).toBe(1);
  });
});

// These need the real service's support for `resource` in auth.refresh (RFC 8707 resources).
describe('tokenFor, against the real service', () => {
  let gh: TestServer;
  let resources: string[];
  beforeAll(async () => {
    gh = await startTestServer();
    const admin = await signIn(gh, ['admin']);
    resources = [];
    for (const name of ['tasks', 'files']) {
      const identifier = `https://${name}.example/api`;
      await admin.caller.admin.resources.create({ identifier, name, permissions: [] });
      resources.push(identifier);
    }
  });
  afterAll(() => gh?.close());

  function client(options: Partial<GatehouseClientOptions> = {}) {
    const changes: (TokenSet | null)[] = [];
    const gatehouse = createGatehouseClient({ url: gh.url, onTokens: (tokens) => changes.push(tokens), ...options });
    return { gatehouse, changes };
  }

  it('returns a token whose aud is the resource, from the same session, which lives on after a reload', async () => {
    const [tasks] = resources as [string];
    const { gatehouse, changes } = client();
    const session = tokensOf(await gatehouse.auth.register.mutate(newAccount()));

    const token = await gatehouse.tokenFor(tasks);

    expect(decodeJwt(token)).toMatchObject({ aud: tasks, sub: session.user.id, sid: decodeJwt(session.accessToken).sid });
    expect(await gatehouse.tokenFor(tasks)).toBe(token);
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ accessToken: session.accessToken, user: { id: session.user.id } });
    expect(changes[1]!.refreshToken).not.toBe(session.refreshToken);
    await expect(gatehouse.me.get.query()).resolves.toMatchObject({ id: session.user.id });

    // A client resumed from what onTokens persisted last refreshes with it.
    const expired = await signWithServerKey(gh, accessClaims(gh, session.user.id, { exp: nowSeconds() - 60 }));
    const resumed = client({ tokens: { accessToken: expired, refreshToken: changes[1]!.refreshToken } });
    await expect(resumed.gatehouse.me.get.query()).resolves.toMatchObject({ id: session.user.id });
    expect(audOf(await resumed.gatehouse.tokenFor(tasks))).toBe(tasks);
    expect(await gh.caller().auth.verify({ token: resumed.gatehouse.$tokens.get()!.accessToken })).toMatchObject({ active: true });
  });

  it('keeps the session alive through concurrent refreshes for two resources and the main token', async () => {
    const [tasks, files] = resources as [string, string];
    const registered = tokensOf(await client().gatehouse.auth.register.mutate(newAccount()));
    const expired = await signWithServerKey(gh, accessClaims(gh, registered.user.id, { exp: nowSeconds() - 60 }));
    const { gatehouse, changes } = client({ tokens: { accessToken: expired, refreshToken: registered.refreshToken } });

    const [a, me, b] = await Promise.all([gatehouse.tokenFor(tasks), gatehouse.me.get.query(), gatehouse.tokenFor(files)]);

    expect(audOf(a)).toBe(tasks);
    expect(audOf(b)).toBe(files);
    expect(me.id).toBe(registered.user.id);
    expect(changes).toHaveLength(3);
    for (const token of [a, b, gatehouse.$tokens.get()!.accessToken]) {
      expect(await gh.caller().auth.verify({ token })).toMatchObject({ active: true });
    }
  });

  it('refuses an unregistered resource without spending the refresh token', async () => {
    const { gatehouse, changes } = client();
    await gatehouse.auth.register.mutate(newAccount());

    const error = await rejectionOf(gatehouse.tokenFor('https://unknown.example/api'));

    expect(isResourceRefused(error)).toBe(true);
    expect(changes).toHaveLength(1);
    expect(audOf(await gatehouse.tokenFor(resources[0]!))).toBe(resources[0]);
  });
});
