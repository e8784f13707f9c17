// What a client can make the service believe about itself through headers: its address behind a
// proxy (X-Forwarded-For, IPv6, IPv4-mapped), and the service's own URLs (Host, X-Forwarded-Host).
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents, oidcPayloads } from '../../db/schema/index.ts';
import { APP, firstPartyApp } from '../helpers/oidc-flow.ts';
import { rawRequest, trpcMutation } from '../helpers/raw-http.ts';
import { newAccount, startTestServer, type TestServer } from '../helpers/server.ts';

let oneHop: TestServer;
let twoHops: TestServer;
let direct: TestServer;
beforeAll(async () => {
  [oneHop, twoHops, direct] = await Promise.all([
    startTestServer({ env: { TRUST_PROXY: 'true', LOGIN_RATE_LIMIT: '1/60' } }),
    startTestServer({ env: { TRUST_PROXY: '2', LOGIN_RATE_LIMIT: '1/60' } }),
    startTestServer({ env: { PUBLIC_URL: 'https://auth.example.test' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([oneHop?.close(), twoHops?.close(), direct?.close()]);
});

const wrongLogin = (gh: TestServer, email: string, forwardedFor: string) =>
  trpcMutation(gh.url, 'auth.login', { email, password: 'Wrong-Password-1' }, { 'x-forwarded-for': forwardedFor });

async function failedLoginIps(gh: TestServer, email: string): Promise<(string | null)[]> {
  const rows = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.type, 'login_failed'));
  return rows.filter((row) => row.metadata.email === email).map((row) => row.ip);
}

describe('TRUST_PROXY counts hops from the right', () => {
  it('ignores X-Forwarded-For entries the client wrote itself: rotating them escapes no limit', async () => {
    const { email } = newAccount();
    // The proxy appends the address it saw; everything to its left is the client's own writing.
    expect((await wrongLogin(oneHop, email, '10.0.0.1, 198.51.100.9')).status).toBe(401);
    expect((await wrongLogin(oneHop, email, '10.0.0.2, 198.51.100.9')).status).toBe(429);
    expect((await wrongLogin(oneHop, email, '198.51.100.10')).status).toBe(401);
    expect(await failedLoginIps(oneHop, email)).toEqual(['198.51.100.9', '198.51.100.10']);
  });

  it('records the hop-counted address on the session list', async () => {
    const account = newAccount();
    const signedUp = await trpcMutation(oneHop.url, 'auth.register', account, { 'x-forwarded-for': '6.6.6.6, 198.51.100.11' });
    const sessions = await rawRequest(oneHop.url, { path: '/trpc/me.sessions.list', headers: { authorization: `Bearer ${signedUp.json.result.data.accessToken}`, 'x-forwarded-for': '7.7.7.7, 198.51.100.11' } });
    expect(JSON.parse(sessions.body).result.data.map((s: { ip: string }) => s.ip)).toEqual(['198.51.100.11']);
  });

  it('with two proxies, takes the entry two hops from the right', async () => {
    const { email } = newAccount();
    expect((await wrongLogin(twoHops, email, '10.0.0.1, 198.51.100.20, 192.0.2.254')).status).toBe(401);
    expect((await wrongLogin(twoHops, email, '10.0.0.9, 198.51.100.20, 192.0.2.254')).status).toBe(429);
    expect(await failedLoginIps(twoHops, email)).toEqual(['198.51.100.20']);
  });
});

describe('IPv6 and IPv4-mapped clients', () => {
  it('counts an IPv6 client by its /64', async () => {
    const { email } = newAccount();
    expect((await wrongLogin(oneHop, email, '2001:db8:1:2::1')).status).toBe(401);
    expect((await wrongLogin(oneHop, email, '2001:db8:1:2:ffff:ffff:ffff:fffe')).status).toBe(429);
    expect((await wrongLogin(oneHop, email, '2001:DB8:1:2::7')).status).toBe(429);
    // Another /64 is another client.
    expect((await wrongLogin(oneHop, email, '2001:db8:1:3::1')).status).toBe(401);
  });

  it('folds an IPv4-mapped address into its IPv4 address', async () => {
    const { email } = newAccount();
    expect((await wrongLogin(oneHop, email, '::ffff:198.51.100.30')).status).toBe(401);
    expect((await wrongLogin(oneHop, email, '198.51.100.30')).status).toBe(429);
    expect(await failedLoginIps(oneHop, email)).toEqual(['198.51.100.30']);
  });
});

describe('the URLs the service publishes', () => {
  const discovery = (gh: TestServer, headers: Record<string, string>, path = '/oidc/.well-known/openid-configuration') => rawRequest(gh.url, { path, headers });
  const urlsIn = (document: Record<string, unknown>) =>
    Object.entries(document).flatMap(([key, value]) => (typeof value === 'string' && /^https?:/.test(value) ? [[key, value] as const] : []));

  it('come from PUBLIC_URL whatever Host, X-Forwarded-Host or the request target say', async () => {
    for (const [gh, headers, path] of [
      [direct, { host: 'evil.example' }, undefined],
      [direct, { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' }, undefined],
      [oneHop, { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' }, undefined],
      [direct, { host: 'evil.example' }, 'http://evil.example/oidc/.well-known/openid-configuration'],
    ] as const) {
      const res = await discovery(gh, headers, path);
      expect(res.status).toBe(200);
      const document = JSON.parse(res.body) as Record<string, unknown>;
      const urls = urlsIn(document);
      expect(urls.map(([key]) => key)).toEqual(expect.arrayContaining(['issuer', 'jwks_uri', 'token_endpoint', 'authorization_endpoint']));
      for (const [key, url] of urls) expect(url.startsWith(`${gh.deps.config.publicUrl}/oidc/`) || url === gh.deps.config.issuer, `${key}: ${url}`).toBe(true);
    }
  });

  it('keep a path prefix of PUBLIC_URL, behind a proxy that strips it', async () => {
    const prefixed = await startTestServer({ env: { PUBLIC_URL: 'https://auth.example.test/idp' } });
    try {
      const res = await discovery(prefixed, { host: 'evil.example' });
      expect(res.status).toBe(200);
      const document = JSON.parse(res.body) as Record<string, unknown>;
      expect(document.issuer).toBe('https://auth.example.test/idp/oidc');
      expect(document.token_endpoint).toBe('https://auth.example.test/idp/oidc/token');
      for (const [key, url] of urlsIn(document)) expect(url.startsWith('https://auth.example.test/idp/oidc'), `${key}: ${url}`).toBe(true);
    } finally {
      await prefixed.close();
    }
  });

  it('send the browser back to PUBLIC_URL after the hosted login, not to the Host it came with', async () => {
    const created = await firstPartyApp(direct, 'Host test');
    const query = new URLSearchParams({ client_id: created.clientId, response_type: 'code', redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' });
    const start = await rawRequest(direct.url, { path: `/oidc/auth?${query}`, headers: { host: 'evil.example' } });
    expect(start.status).toBe(303);
    expect(start.headers.location).not.toMatch(/evil/);
    const uid = /\/interaction\/([\w-]+)/.exec(start.headers.location!)![1]!;
    // The interaction remembers where to resume: PUBLIC_URL, never the Host of the request.
    const interactions = await direct.deps.database.db.select().from(oidcPayloads).where(eq(oidcPayloads.model, 'Interaction'));
    const returnTo = interactions.map((row) => String(row.payload.returnTo)).find((url) => url.endsWith(`/${uid}`));
    expect(returnTo).toBe(`https://auth.example.test/oidc/auth/${uid}`);
  });
});

describe('X-Forwarded-For without a trusted proxy', () => {
  it('is ignored entirely', async () => {
    const account = newAccount();
    const signedUp = await trpcMutation(direct.url, 'auth.register', account, { 'x-forwarded-for': '203.0.113.99' });
    expect(signedUp.status).toBe(200);
    // The sign-up is recorded, from the address of the socket: not from the header, and not without one.
    const rows = await direct.deps.database.db
      .select()
      .from(authEvents)
      .where(and(eq(authEvents.type, 'register'), eq(authEvents.userId, signedUp.json.result.data.user.id)));
    expect(rows.map((row) => row.ip)).toEqual(['127.0.0.1']);
  });
});
