// /metrics: what it counts, with low-cardinality labels, one registry per app instance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let other: TestServer;
beforeAll(async () => {
  [gh, other] = await Promise.all([startTestServer({ refreshGraceSeconds: 0, env: { LOGIN_RATE_LIMIT: '1/60' } }), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([gh?.close(), other?.close()]);
});

const scrape = async (server: TestServer) => {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe('/metrics', () => {
  it('counts logins by outcome, tokens by grant, rate-limit rejections and refresh reuse', async () => {
    const account = newAccount();
    const registered = (await trpcHttp(gh.url, 'auth.register', account)).body.result.data;
    expect((await trpcHttp(gh.url, 'auth.login', account)).status).toBe(200);
    expect((await trpcHttp(gh.url, 'auth.login', { ...account, password: 'Wrong-Password-1' })).status).toBe(401);
    expect((await trpcHttp(gh.url, 'auth.login', account)).status).toBe(429);
    const rotated = await trpcHttp(gh.url, 'auth.refresh', { refreshToken: registered.refreshToken });
    expect(rotated.status).toBe(200);
    expect((await trpcHttp(gh.url, 'auth.refresh', { refreshToken: registered.refreshToken })).status).toBe(401);

    const text = await scrape(gh);
    expect(value(text, 'gatehouse_logins_total{outcome="success"}')).toBe(1);
    expect(value(text, 'gatehouse_logins_total{outcome="failure"}')).toBe(1);
    expect(value(text, 'gatehouse_logins_total{outcome="rate_limited"}')).toBe(1);
    expect(value(text, 'gatehouse_tokens_issued_total{grant="login"}')).toBe(2);
    expect(value(text, 'gatehouse_tokens_issued_total{grant="refresh_token"}')).toBe(1);
    expect(value(text, 'gatehouse_rate_limit_rejections_total{limit="login",counter="login_account_ip"}')).toBe(1);
    expect(value(text, 'gatehouse_refresh_reuse_detected_total')).toBe(1);
  });

  it('times requests by route name and status, never by raw path', async () => {
    await fetch(`${gh.url}/trpc/no.such.procedure-8f14e45f`);
    await fetch(`${gh.url}/users/8f14e45f-ceea-467f-a9a0-6d7b6c1c1f0e`);
    await fetch(`${gh.url}/oidc/jwks`);
    await fetch(`${gh.url}/trpc/auth.verify,auth.verify?batch=1&input=%7B%7D`);
    const text = await scrape(gh);
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{method="POST",route="trpc:auth.login",status="200"\} 1/);
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{method="POST",route="trpc:auth.login",status="429"\} 1/);
    expect(text).toMatch(/route="trpc:unknown",status="404"/);
    expect(text).toMatch(/route="oidc:jwks",status="200"/);
    expect(text).toMatch(/route="trpc:batch"/);
    expect(text).toMatch(/route="other",status="404"/);
    expect(text).not.toContain('8f14e45f');
  });

  it('reports database pool and process metrics', async () => {
    const text = await scrape(gh);
    expect(value(text, 'gatehouse_db_pool_connections{state="max"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^gatehouse_db_pool_connections\{state="active"\} \d+/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('keeps one registry per instance: two servers in one process count apart', async () => {
    const before = value(await scrape(other), 'gatehouse_logins_total{outcome="success"}');
    const account = newAccount();
    await trpcHttp(gh.url, 'auth.register', account);
    await trpcHttp(gh.url, 'auth.login', account);
    expect(value(await scrape(other), 'gatehouse_logins_total{outcome="success"}')).toBe(before);
  });
});

describe('access log', () => {
  it('has request id, method, path, status, latency, and the user once a procedure knows it', async () => {
    const { accessToken, user } = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data;
    await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'log-test-1' } });
    const line = gh.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'log-test-1');
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/trpc/me.get', status: 200, userId: user.id });
    expect(typeof line.ms).toBe('number');
  });
});
