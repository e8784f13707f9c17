// HTTP hardening over real sockets: headers, cookies, CORS, body limits and credentials in URLs.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
let secure: TestServer;
const ALLOWED = 'https://app.example.test';

beforeAll(async () => {
  [gh, secure] = await Promise.all([
    startTestServer({ env: { CORS_ORIGINS: `${ALLOWED},http://localhost:5173` } }),
    // PUBLIC_URL https: TLS ends in front of the process, which still listens on plain loopback.
    startTestServer({ env: { PUBLIC_URL: 'https://auth.example.test' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([gh?.close(), secure?.close()]);
});

/** Raw HTTP/1.1 with a chunked body (no Content-Length), written in `chunks` pieces. */
function chunkedPost(url: string, path: string, contentType: string, chunks: string[]): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path, method: 'POST', headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('security headers', () => {
  it('sends nosniff, a referrer policy and frame-ancestors on every response, HSTS only for an https PUBLIC_URL', async () => {
    for (const path of ['/healthz', '/nope', '/oidc/jwks', '/oidc/session/end', '/trpc/auth.verify?input=%7B%7D']) {
      const plain = await fetch(`${gh.url}${path}`, { redirect: 'manual' });
      expect(plain.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(plain.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(plain.headers.get('content-security-policy'), path).toMatch(/frame-ancestors 'none'/);
      expect(plain.headers.get('x-frame-options'), path).toBe('DENY');
      expect(plain.headers.get('strict-transport-security'), path).toBeNull();
      const https = await fetch(`${secure.url}${path}`, { redirect: 'manual' });
      expect(https.headers.get('strict-transport-security'), path).toMatch(/^max-age=\d{8,}/);
    }
  });

  it('never lets a tRPC answer be cached', async () => {
    const res = await trpcHttp(gh.url, 'auth.register', newAccount());
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('cookies', () => {
  const cookiesOf = async (url: string) => (await fetch(`${url}/oidc/session/end`, { redirect: 'manual' })).headers.getSetCookie();

  it('are HttpOnly and SameSite, and Secure when PUBLIC_URL is https', async () => {
    const plain = await cookiesOf(gh.url);
    const https = await cookiesOf(secure.url);
    expect(plain.length).toBeGreaterThan(0);
    expect(https.length).toBeGreaterThan(0);
    for (const cookie of [...plain, ...https]) {
      expect(cookie).toMatch(/;\s*httponly/i);
      expect(cookie).toMatch(/;\s*samesite=(lax|strict)/i);
    }
    for (const cookie of plain) expect(cookie).not.toMatch(/;\s*secure/i);
    for (const cookie of https) expect(cookie).toMatch(/;\s*secure/i);
  });
});

describe('CORS', () => {
  it('answers an allowed origin with its own name and Vary: Origin, and an unknown origin with no grant', async () => {
    const allowed = await trpcHttp(gh.url, 'auth.verify', { token: 'x' }, { headers: { origin: ALLOWED } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('vary')).toMatch(/origin/i);
    const other = await trpcHttp(gh.url, 'auth.verify', { token: 'x' }, { headers: { origin: 'https://evil.example.test' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toMatch(/origin/i);
    const none = await trpcHttp(gh.url, 'auth.verify', { token: 'x' });
    expect(none.headers.get('vary')).toMatch(/origin/i);
  });

  it('answers preflights: 204 with methods and headers for an allowed origin, 403 otherwise', async () => {
    const preflight = (origin: string) =>
      fetch(`${gh.url}/trpc/auth.login`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
    const ok = await preflight('http://localhost:5173');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/content-type/);
    expect(ok.headers.get('vary')).toMatch(/origin/i);
    const refused = await preflight('https://evil.example.test');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets an allowed origin call the REST routes that PUT and DELETE', async () => {
    const account = newAccount();
    const { accessToken } = (await trpcHttp(gh.url, 'auth.register', account)).body.result.data;
    for (const method of ['PUT', 'DELETE']) {
      const preflight = await fetch(`${gh.url}/api/auth/me`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': method } });
      expect(preflight.status, method).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')?.split(/, */), method).toContain(method);
    }
    const update = await fetch(`${gh.url}/api/auth/me`, {
      method: 'PUT',
      headers: { origin: ALLOWED, authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cross Origin' }),
    });
    expect(update.status).toBe(200);
    expect(update.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect((await update.json()).name).toBe('Cross Origin');
  });

  it('grants no origin at all when CORS_ORIGINS is empty', async () => {
    const res = await trpcHttp(secure.url, 'auth.verify', { token: 'x' }, { headers: { origin: ALLOWED } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('body limit at /oidc', () => {
  it('refuses a chunked body over 100 KB with 413', async () => {
    const res = await chunkedPost(gh.url, '/oidc/token', 'application/x-www-form-urlencoded', ['grant_type=refresh_token&junk=', ...Array(12).fill('x'.repeat(10 * 1024))]);
    expect(res.status).toBe(413);
    const json = await chunkedPost(gh.url, '/oidc/token', 'application/json', ['{"a":"', ...Array(12).fill('x'.repeat(10 * 1024)), '"}']);
    expect(json.status).toBe(413);
  });

  it('still serves a small chunked body', async () => {
    const account = newAccount();
    const { refreshToken } = (await trpcHttp(gh.url, 'auth.register', account)).body.result.data;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'gatehouse' }).toString();
    const res = await chunkedPost(gh.url, '/oidc/token', 'application/x-www-form-urlencoded', [form.slice(0, 20), form.slice(20)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ token_type: 'Bearer' });
  });
});

describe('credentials in URLs', () => {
  it('refuses access_token (and the like) in any query string with 400', async () => {
    for (const path of ['/trpc/me.get?access_token=abc', '/oidc/me?access_token=abc', '/healthz?refresh_token=abc', '/trpc/auth.verify?input=%7B%7D&token=abc']) {
      const res = await fetch(`${gh.url}${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.text(), path).not.toContain('abc');
    }
  });

  it('reads the caller’s token from the Authorization header only', async () => {
    const { accessToken } = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data;
    const viaCookie = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { cookie: `authorization=Bearer ${accessToken}; access_token=${accessToken}` } });
    expect(viaCookie.status).toBe(401);
    const viaHeader = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${accessToken}` } });
    expect(viaHeader.status).toBe(200);
  });

  it('takes the Bearer scheme in any case, as HTTP defines it', async () => {
    const { accessToken } = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data;
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `${scheme} ${accessToken}` } });
      expect(res.status, scheme).toBe(200);
    }
    const basic = await trpcHttp(gh.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Basic ${accessToken}` } });
    expect(basic.status).toBe(401);
  });
});
