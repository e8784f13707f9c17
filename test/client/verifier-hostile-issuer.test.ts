// The verifier and its middleware against a hostile issuer document and hostile tokens, over HTTP:
// a jwks_uri on someone else's origin, and a token that makes jose fail in a way it has no name for.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireToken, toNodeHttp } from '../../client/src/middleware/index.ts';
import { createTokenVerifier, VerifierUnavailableError } from '../../client/src/verifier/index.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const servers: Server[] = [];
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An issuer whose discovery names `jwksUri` (by default its own /jwks, serving `keys`). */
async function fakeIssuer(keys: JWK[], jwksUri?: (origin: string) => string): Promise<string> {
  let origin = '';
  origin = await listen((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/oidc/.well-known/openid-configuration') res.end(JSON.stringify({ issuer: `${origin}/oidc`, jwks_uri: jwksUri?.(origin) ?? `${origin}/oidc/jwks` }));
    else if (req.url === '/oidc/jwks') res.end(JSON.stringify({ keys }));
    else res.writeHead(404).end('{}');
  });
  return `${origin}/oidc`;
}

let signer: { privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"]; jwk: JWK };
beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  signer = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'good', alg: 'ES256', use: 'sig' } };
});

const claims = (issuer: string) => ({ iss: issuer, aud: 'https://api.example.test', sub: 'u1', client_id: 'c1', jti: 'j1', roles: [], permissions: [] });
const sign = (issuer: string, kid: string) =>
  new SignJWT(claims(issuer)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).setIssuedAt().setExpirationTime('5m').sign(signer.privateKey);

describe('jwks_uri', () => {
  it('is trusted only on the issuer’s own origin', async () => {
    // The attacker's key set, on another origin that discovery points to.
    const elsewhere = await listen((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [signer.jwk] })));
    const issuer = await fakeIssuer([], () => `${elsewhere}/jwks`);
    const verifier = createTokenVerifier({ issuer, audience: 'https://api.example.test' });
    await expect(verifier.verify(await sign(issuer, 'good'))).rejects.toBeInstanceOf(VerifierUnavailableError);
  });

  it('on the issuer’s origin, is used', async () => {
    const issuer = await fakeIssuer([signer.jwk]);
    const verifier = createTokenVerifier({ issuer, audience: 'https://api.example.test' });
    expect((await verifier.verify(await sign(issuer, 'good'))).ok).toBe(true);
  });
});

describe('a token jose fails on without a known code', () => {
  it('is a failed verification: 401 from the middleware, never a 5xx', async () => {
    // One key of the set cannot be imported; a token naming it makes WebCrypto throw.
    const broken: JWK = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'broken', alg: 'ES256', use: 'sig' };
    const issuer = await fakeIssuer([signer.jwk, broken]);
    const verifier = createTokenVerifier({ issuer, audience: 'https://api.example.test' });
    const guard = toNodeHttp(requireToken(verifier));
    const api = await listen(async (req, res) => {
      try {
        if (await guard(req, res)) res.end('{"ok":true}');
      } catch {
        res.writeHead(500).end('{"error":"server"}');
      }
    });
    const hostile = await rawRequest(api, { path: '/', headers: { authorization: `Bearer ${await sign(issuer, 'broken')}` } });
    expect(hostile.status).toBe(401);
    expect(hostile.headers['www-authenticate']).toMatch(/invalid_token/);
    const honest = await rawRequest(api, { path: '/', headers: { authorization: `Bearer ${await sign(issuer, 'good')}` } });
    expect(honest.status).toBe(200);
  });
});
