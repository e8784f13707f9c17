// What every HTTP response promises, over a real socket.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
});
afterAll(() => gh?.close());

describe('HTTP surface', () => {
  it('serves /healthz and /readyz', async () => {
    const health = await fetch(`${gh.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${gh.url}/readyz`)).status).toBe(200);
  });

  it('puts a request id and nosniff on every response, echoing a sane incoming id only', async () => {
    for (const path of ['/healthz', '/nope', '/oidc/jwks', '/trpc/auth.verify?input=%7B%7D']) {
      const res = await fetch(`${gh.url}${path}`);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
    }
    const echoed = await fetch(`${gh.url}/healthz`, { headers: { 'x-request-id': 'abc-123.DEF' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123.DEF');
    const replaced = await fetch(`${gh.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses bodies over 100 KB with 413 before any work is done', async () => {
    const big = JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(110 * 1024) });
    const trpc = await fetch(`${gh.url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(trpc.status).toBe(413);
    const oidc = await fetch(`${gh.url}/oidc/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'x'.repeat(110 * 1024)}` });
    expect(oidc.status).toBe(413);
  });

  it('caps a chunked body without a length at 100 KB too', async () => {
    const url = new URL(`${gh.url}/trpc/auth.login`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"email":"a@b.co","password":"');
      for (let i = 0; i < 12; i += 1) req.write('x'.repeat(10 * 1024));
      req.end('"}');
    });
    expect(status).toBe(413);
  });

  it('answers tRPC calls whole, with a length; other media types as tRPC does; JSON lines as a stream', async () => {
    const url = new URL(`${gh.url}/trpc/auth.verify`);
    // A chunked JSON body, read whole at the edge and handed to tRPC as text.
    const chunked = await new Promise<{ status: number; length: string | undefined; body: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], body }));
      });
      req.on('error', reject);
      req.write('{"tok');
      req.end('en":"not-a-token"}');
    });
    expect(chunked).toEqual({ status: 200, length: String(Buffer.byteLength(chunked.body)), body: '{"result":{"data":{"active":false}}}' });

    const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"token":"x"}' });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { error: { data: { code: string } } }).error.data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = new FormData();
    form.set('token', 'x');
    const multipart = await fetch(url, { method: 'POST', body: form });
    expect(multipart.status).toBe(400);
    expect(((await multipart.json()) as { error: { data: { code: string } } }).error.data.code).toBe('BAD_REQUEST');

    // A streamed batch (httpBatchStreamLink's wire format) still arrives, as JSON lines.
    const streamed = await fetch(`${gh.url}/trpc/me.get,me.get?batch=1&input=%7B%7D`, { headers: { 'trpc-accept': 'application/jsonl' } });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('transfer-encoding')).toBe('chunked');
    expect(streamed.headers.get('content-length')).toBeNull();
    expect(streamed.headers.get('cache-control')).toBe('no-store');
    const lines = (await streamed.text()).trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('\n')).toContain('UNAUTHORIZED');
  });

  it('never sends a stack trace', async () => {
    const responses = await Promise.all([
      fetch(`${gh.url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }),
      fetch(`${gh.url}/trpc/no.such.procedure`),
      fetch(`${gh.url}/oidc/token`, { method: 'POST', body: 'grant_type=password' }),
      fetch(`${gh.url}/oidc/auth?client_id=nope`),
    ]);
    for (const res of responses) {
      expect(res.status).toBeLessThan(500);
      const text = await res.text();
      expect(text).not.toMatch(/\bat .+:\d+:\d+/);
      expect(text).not.toMatch(/node_modules|server\//);
    }
  });

  it('serves discovery with issuer $PUBLIC_URL/oidc and the JWKS, offering neither implicit nor password grants', async () => {
    const discovery = (await (await fetch(`${gh.url}/oidc/.well-known/openid-configuration`)).json()) as Record<string, any>;
    expect(discovery.issuer).toBe(`${gh.url}/oidc`);
    expect(discovery.jwks_uri).toBe(`${gh.url}/oidc/jwks`);
    expect(discovery.response_types_supported).toEqual(['code']);
    expect(discovery.grant_types_supported).not.toContain('password');
    expect(discovery.grant_types_supported).not.toContain('implicit');
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
  });

  it('hands the provider every target below /oidc, with its URLs intact, and nothing else', async () => {
    const discovery = (target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        // A raw target: fetch would normalize an absolute-form one away.
        const req = request(gh.url, { path: target }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const target of ['/oidc/.well-known/openid-configuration?x=1', `${gh.url}/oidc/.well-known/openid-configuration`]) {
      const { status, body } = await discovery(target);
      expect(status, target).toBe(200);
      expect(JSON.parse(body), target).toMatchObject({ issuer: `${gh.url}/oidc`, token_endpoint: `${gh.url}/oidc/token` });
    }
    expect((await discovery('/oidcx/.well-known/openid-configuration')).status).toBe(404);
    expect((await discovery('/.well-known/openid-configuration')).status).toBe(404);
  });

  it('has no development login: the built-in devInteractions pages are not served', async () => {
    const res = await fetch(`${gh.url}/oidc/interaction/anything`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toMatch(/<form/i);
  });

  it('answers /readyz with 503 once the database is gone', async () => {
    const other = await startTestServer();
    await other.deps.database.close();
    const res = await fetch(`${other.url}/readyz`);
    expect(res.status).toBe(503);
    expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
    await other.close();
  });
});
