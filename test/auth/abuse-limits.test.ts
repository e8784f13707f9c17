// The limits as an attacker meets them over HTTP: spraying accounts from one address, locking an
// owner out from many, slipping past the token limit by spelling its path differently, shutting
// out honest callers with junk, and batching calls.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEvents } from '../../db/schema/index.ts';
import { operator } from '../../server/services/rbac.ts';
import { Agent, formAction, hiddenField } from '../helpers/agent.ts';
import { APP, firstPartyApp } from '../helpers/oidc-flow.ts';
import { rawRequest, trpcMutation } from '../helpers/raw-http.ts';
import { newAccount, startTestServer, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let tight: TestServer;
beforeAll(async () => {
  [gh, tight] = await Promise.all([
    // The default LOGIN_RATE_LIMIT (5/60), an account cap low enough for a test to reach.
    startTestServer({ env: { TRUST_PROXY: '1' }, rateLimits: { login_account: { points: 20 } } }),
    startTestServer({ env: { TRUST_PROXY: '1' }, rateLimits: { token_client: { points: 2 }, verify_ip: { points: 2 } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([gh?.close(), tight?.close()]);
});

const from = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra });
const cookieOf = (res: { headers: { 'set-cookie'?: string[] } }) => (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');

describe('sign-in from one address across accounts', () => {
  it('is capped at 4x LOGIN_RATE_LIMIT per window: the 21st failure in a minute is refused', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < 20; i += 1) {
      expect((await trpcMutation(gh.url, 'auth.login', { ...newAccount('spray'), password: 'Wrong-Password-1' }, from(ip))).status).toBe(401);
    }
    const refused = await trpcMutation(gh.url, 'auth.login', { ...newAccount('spray'), password: 'Wrong-Password-1' }, from(ip));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect((await trpcMutation(gh.url, 'auth.login', { ...newAccount('spray'), password: 'Wrong-Password-1' }, from('198.51.100.78'))).status).toBe(401);
  });
});

describe('the owner of an attacked account', () => {
  it('still signs in from a device it signed in on before, after 100 failures from 100 addresses', async () => {
    const owner = newAccount('owner');
    await trpcMutation(gh.url, 'auth.register', owner, from('198.51.100.60'));
    const first = await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.60'));
    expect(first.status).toBe(200);
    const device = cookieOf(first);
    expect(device).toMatch(/device/);

    // Someone else's device, good for their own account only.
    const mallory = newAccount('mallory');
    await trpcMutation(gh.url, 'auth.register', mallory, from('203.0.113.200'));
    const malloryDevice = cookieOf(await trpcMutation(gh.url, 'auth.login', mallory, from('203.0.113.200')));

    for (let i = 0; i < 100; i += 1) await trpcMutation(gh.url, 'auth.login', { ...owner, password: 'Wrong-Password-1' }, from(`10.${i}.0.1`));

    // A client that never signed in to the account is refused, right password or not.
    expect((await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.61'))).status).toBe(429);
    expect((await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.61', { cookie: malloryDevice }))).status).toBe(429);
    expect((await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.61', { cookie: device.replace(/=(.)/, (_m, c: string) => `=${c === 'A' ? 'B' : 'A'}`) }))).status).toBe(429);
    // The owner's own device is not.
    expect((await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.60', { cookie: device }))).status).toBe(200);
    expect((await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.62', { cookie: device }))).status).toBe(200);
  });

  it('is still bound by its own account+IP counter', async () => {
    const owner = newAccount('owner');
    await trpcMutation(gh.url, 'auth.register', owner, from('198.51.100.63'));
    const device = cookieOf(await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.63')));
    for (let i = 0; i < 5; i += 1) expect((await trpcMutation(gh.url, 'auth.login', { ...owner, password: 'Wrong-Password-1' }, from('198.51.100.63', { cookie: device }))).status).toBe(401);
    expect((await trpcMutation(gh.url, 'auth.login', owner, from('198.51.100.63', { cookie: device }))).status).toBe(429);
  });

  it('signs in on the hosted page with the device the page remembered', async () => {
    const owner = newAccount('page-owner');
    await trpcMutation(gh.url, 'auth.register', owner, from('198.51.100.64'));
    const client = await firstPartyApp(gh, 'Dashboard');
    const authorizeUrl = () =>
      `${gh.url}/oidc/auth?${new URLSearchParams({ client_id: client.clientId, response_type: 'code', redirect_uri: `${APP}/callback`, scope: 'openid', code_challenge: 'd'.repeat(43), code_challenge_method: 'S256', prompt: 'login' })}`;
    const signInOnPage = async (agent: Agent, ip: string) => {
      const page = await agent.follow(authorizeUrl(), gh.url);
      return agent.request(`${gh.url}${formAction(page.body)}`, { form: { csrf: hiddenField(page.body, 'csrf'), ...owner }, headers: from(ip) });
    };
    const browser = new Agent();
    expect((await signInOnPage(browser, '198.51.100.64')).status).toBe(303);

    for (let i = 0; i < 25; i += 1) await trpcMutation(gh.url, 'auth.login', { ...owner, password: 'Wrong-Password-1' }, from(`10.99.${i}.1`));
    expect((await signInOnPage(new Agent(), '198.51.100.65')).status).toBe(429);
    expect((await signInOnPage(browser, '198.51.100.64')).status).toBe(303);
  });
});

describe('the token endpoint', () => {
  const junkRefresh = (path: string, ip: string) =>
    rawRequest(tight.url, {
      method: 'POST',
      path,
      headers: from(ip, { 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: `guess-${Math.random()}`, client_id: 'gatehouse' }).toString(),
    });

  it('is limited however its path is spelled, and a refused failure writes no audit row', async () => {
    for (const [path, ip] of [['/oidc/token/', '192.0.2.101'], ['/oidc/TOKEN', '192.0.2.102'], ['/oidc/Token/', '192.0.2.103']] as const) {
      const statuses = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await junkRefresh(path, ip)).status);
      expect(statuses, path).toEqual([400, 400, 429, 429, 429, 429]);
      const rows = await tight.deps.database.db.select().from(authEvents).where(and(eq(authEvents.ip, ip), eq(authEvents.type, 'refresh')));
      expect(rows, path).toHaveLength(2);
    }
  });

  it('serves the live key set however the JWKS path is spelled', async () => {
    const added = (await tight.deps.signingKeys.rotate(operator())).added.map((k) => k.kid);
    await tight.deps.liveKeys.refresh();
    for (const path of ['/oidc/jwks', '/oidc/JWKS', '/oidc/jwks/']) {
      const res = await rawRequest(tight.url, { path });
      expect(res.status, path).toBe(200);
      const kids = (JSON.parse(res.body) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      expect(kids, path).toEqual(expect.arrayContaining(added));
      // Cached well inside the staging delay, so verifiers see a staged key before it signs.
      expect(res.headers['cache-control'], path).toBe('public, max-age=300');
    }
  });
});

describe('valid credentials after someone else’s failures', () => {
  it('auth.verify: a valid token is answered after a flood of junk from the same address', async () => {
    const ip = '192.0.2.120';
    const session = (await trpcMutation(tight.url, 'auth.register', newAccount(), from('192.0.2.121'))).json.result.data;
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push((await trpcMutation(tight.url, 'auth.verify', { token: `junk.${i}.token` }, from(ip))).status);
    expect(answers).toEqual([200, 200, 429, 429, 429]);
    const valid = await trpcMutation(tight.url, 'auth.verify', { token: session.accessToken }, from(ip));
    expect(valid.status).toBe(200);
    expect(valid.json.result.data.active).toBe(true);
  });

  it('auth.refresh and /oidc/token: a valid refresh token is served after junk from the same address', async () => {
    const ip = '192.0.2.130';
    const session = (await trpcMutation(tight.url, 'auth.register', newAccount(), from('192.0.2.131'))).json.result.data;
    for (let i = 0; i < 4; i += 1) await trpcMutation(tight.url, 'auth.refresh', { refreshToken: `junk-${i}-refresh-token` }, from(ip));
    expect((await trpcMutation(tight.url, 'auth.refresh', { refreshToken: `junk-refresh-token` }, from(ip))).status).toBe(429);
    const viaTrpc = await trpcMutation(tight.url, 'auth.refresh', { refreshToken: session.refreshToken }, from(ip));
    expect(viaTrpc.status).toBe(200);
    const viaOidc = await rawRequest(tight.url, {
      method: 'POST',
      path: '/oidc/token',
      headers: from(ip, { 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: viaTrpc.json.result.data.refreshToken, client_id: 'gatehouse' }).toString(),
    });
    expect(viaOidc.status).toBe(200);
  });

  it('/oidc/token: a confidential client is counted by its client_id, never by the address it shares', async () => {
    const ip = '192.0.2.140';
    const create = (name: string) => tight.deps.clientAdmin.create({ name, grantTypes: ['client_credentials'], scopes: ['api'] }, operator());
    const [billing, reports] = await Promise.all([create('Billing'), create('Reports')]);
    const grant = (client: { clientId: string; clientSecret?: string }, body: Record<string, string>) =>
      rawRequest(tight.url, {
        method: 'POST',
        path: '/oidc/token',
        headers: from(ip, { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` }),
        body: new URLSearchParams(body).toString(),
      });
    const credentials = { grant_type: 'client_credentials', scope: 'api', resource: `${tight.url}/api` };
    // Junk from the shared address, by a public client.
    for (let i = 0; i < 4; i += 1) await junk(ip);
    expect((await grant(billing, credentials)).status).toBe(200);
    // Billing's own failures count against Billing only, and never refuse its valid requests.
    const failures = [];
    for (let i = 0; i < 4; i += 1) failures.push((await grant(billing, { grant_type: 'refresh_token', refresh_token: `nope-${i}` })).status);
    expect(failures).toEqual([400, 400, 429, 429]);
    expect((await grant(billing, credentials)).status).toBe(200);
    expect((await grant(reports, { grant_type: 'refresh_token', refresh_token: 'nope' })).status).toBe(400);
  });

  function junk(ip: string) {
    return rawRequest(tight.url, {
      method: 'POST',
      path: '/oidc/token',
      headers: from(ip, { 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'junk', client_id: 'gatehouse' }).toString(),
    });
  }
});

describe('tRPC batches', () => {
  const batch = (size: number) => {
    const paths = Array.from({ length: size }, () => 'auth.verify').join(',');
    const input = Object.fromEntries(Array.from({ length: size }, (_, i) => [String(i), { token: `junk-${i}` }]));
    return rawRequest(gh.url, { method: 'POST', path: `/trpc/${paths}?batch=1`, headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
  };

  it('holds at most 10 calls; more is a 400 before any call runs', async () => {
    const ten = await batch(10);
    expect(ten.status).toBe(200);
    expect(JSON.parse(ten.body)).toHaveLength(10);
    const eleven = await batch(11);
    expect(eleven.status).toBe(400);
    expect(eleven.body).not.toMatch(/active/);
  });
});
