// The typed client against the real service over HTTP: sign-in, bearer calls, and the one refresh
// that N concurrent calls share.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatehouseClient, TRPCClientError, type GatehouseClientOptions, type TokenSet } from '../../client/src/index.ts';
import { expectUnauthorized } from '../helpers/trpc-client.ts';
import { newAccount, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';
import { accessClaims, signWithServerKey } from '../helpers/tokens.ts';

let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
});
afterAll(() => gh?.close());

/** A fetch that records the procedure of every request and can tamper with requests on the way out. */
function recordingFetch(rewrite: (path: string, init: RequestInit) => RequestInit = (_path, init) => init) {
  const paths: string[] = [];
  const wrapped: typeof fetch = (input, init = {}) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname.replace(/^\/trpc\//, '');
    paths.push(path);
    return fetch(input, rewrite(path, init));
  };
  return { fetch: wrapped, count: (path: string) => paths.filter((p) => p === path).length };
}

function client(options: Partial<GatehouseClientOptions> = {}) {
  const recorder = recordingFetch();
  const changes: (TokenSet | null)[] = [];
  const gatehouse = createGatehouseClient({ url: gh.url, fetch: recorder.fetch, onTokens: (tokens) => changes.push(tokens), ...options });
  return { gatehouse, changes, count: recorder.count };
}

async function registered(): Promise<TokenSet> {
  const res = await trpcHttp(gh.url, 'auth.register', newAccount());
  expect(res.status).toBe(200);
  return res.body.result.data;
}

describe('signing in', () => {
  it('registers, keeps the tokens it got, and sends the access token with me.get', async () => {
    const { gatehouse, changes } = client();
    const account = newAccount();
    const session = tokensOf(await gatehouse.auth.register.mutate({ ...account, name: 'Grace Hopper' }));
    expect(changes).toEqual([session]);
    expect(gatehouse.$tokens.get()).toEqual({ accessToken: session.accessToken, refreshToken: session.refreshToken });
    const me = await gatehouse.me.get.query();
    expect(me).toMatchObject({ id: session.user.id, email: account.email, name: 'Grace Hopper', roles: ['user'] });
  });

  it('signs in with auth.login after an UNAUTHORIZED me.get, without trying to refresh', async () => {
    const account = newAccount();
    await trpcHttp(gh.url, 'auth.register', account);
    const { gatehouse, changes, count } = client();
    await expectUnauthorized(gatehouse.me.get.query());
    await expectUnauthorized(gatehouse.auth.login.mutate({ ...account, password: 'Wrong-Password-1' }));
    expect(changes).toEqual([]);
    const session = tokensOf(await gatehouse.auth.login.mutate(account));
    expect((await gatehouse.me.get.query()).id).toBe(session.user.id);
    expect(changes).toEqual([session]);
    expect(count('auth.refresh')).toBe(0);
  });

  it('drops its tokens when its own session logs out', async () => {
    const { gatehouse, changes } = client({ tokens: await registered() });
    await gatehouse.auth.logout.mutate({ refreshToken: gatehouse.$tokens.get()!.refreshToken });
    expect(changes).toEqual([null]);
    expect(gatehouse.$tokens.get()).toBeNull();
  });

  it('drops its tokens after auth.logoutAll, which ends its own session too', async () => {
    const { gatehouse, changes } = client({ tokens: await registered() });
    await expect(gatehouse.auth.logoutAll.mutate()).resolves.toEqual({ success: true });
    expect(changes).toEqual([null]);
    expect(gatehouse.$tokens.get()).toBeNull();
  });
});

describe('refreshing', () => {
  it('refreshes an expired access token once for five concurrent calls, before sending them', async () => {
    const session = await registered();
    const expired = await signWithServerKey(gh, accessClaims(gh, session.user.id, { exp: Math.floor(Date.now() / 1000) - 60 }));
    const { gatehouse, changes, count } = client({ tokens: { accessToken: expired, refreshToken: session.refreshToken } });

    const results = await Promise.all(Array.from({ length: 5 }, () => gatehouse.me.get.query()));

    expect(results.map((me) => me.id)).toEqual(Array(5).fill(session.user.id));
    expect(count('auth.refresh')).toBe(1);
    // Refreshed up front: no call went out with the expired token.
    expect(count('me.get')).toBe(5);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.refreshToken).not.toBe(session.refreshToken);
    expect(gatehouse.$tokens.get()).toEqual({ accessToken: changes[0]!.accessToken, refreshToken: changes[0]!.refreshToken });
  });

  it('refreshes once and retries each call when the server refuses the access token', async () => {
    const session = await registered();
    const { gatehouse, changes, count } = client({ tokens: { accessToken: 'not-a-valid-token', refreshToken: session.refreshToken } });

    const results = await Promise.all(Array.from({ length: 5 }, () => gatehouse.me.get.query()));

    expect(results.map((me) => me.id)).toEqual(Array(5).fill(session.user.id));
    expect(count('auth.refresh')).toBe(1);
    expect(count('me.get')).toBe(10);
    expect(changes).toHaveLength(1);
    // The next call uses the new token straight away.
    await gatehouse.me.get.query();
    expect(count('me.get')).toBe(11);
  });

  it('surfaces UNAUTHORIZED and reports null when the refresh token is refused', async () => {
    const { gatehouse, changes, count } = client({ tokens: { accessToken: 'not-a-valid-token', refreshToken: 'revoked-refresh-token' } });

    await Promise.all(Array.from({ length: 3 }, () => expectUnauthorized(gatehouse.me.get.query())));

    expect(count('auth.refresh')).toBe(1);
    expect(changes).toEqual([null]);
    expect(gatehouse.$tokens.get()).toBeNull();
    await expectUnauthorized(gatehouse.me.get.query());
    expect(count('auth.refresh')).toBe(1);
  });

  it('retries only once: a second UNAUTHORIZED reaches the caller', async () => {
    const session = await registered();
    // Strips the bearer token from every me.get, so the retry is refused too.
    const recorder = recordingFetch((path, init) => (path === 'me.get' ? { ...init, headers: {} } : init));
    const gatehouse = createGatehouseClient({ url: gh.url, fetch: recorder.fetch, tokens: session });

    await expectUnauthorized(gatehouse.me.get.query());

    expect(recorder.count('me.get')).toBe(2);
    expect(recorder.count('auth.refresh')).toBe(1);
  });

  it('keeps the tokens when the refresh fails for a reason other than a refusal', async () => {
    const session = await registered();
    const expired = await signWithServerKey(gh, accessClaims(gh, session.user.id, { exp: Math.floor(Date.now() / 1000) - 60 }));
    const changes: (TokenSet | null)[] = [];
    const failing: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/trpc/auth.refresh')) throw new TypeError('network down');
      return fetch(input, init);
    };
    const tokens = { accessToken: expired, refreshToken: session.refreshToken };
    const gatehouse = createGatehouseClient({ url: gh.url, fetch: failing, tokens, onTokens: (t) => changes.push(t) });

    const error = await gatehouse.me.get.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as Error).message).toMatch(/network down/);
    expect(changes).toEqual([]);
    expect(gatehouse.$tokens.get()).toEqual(tokens);
  });
});
