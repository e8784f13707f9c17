// Access tokens made in the test, signed with the service's own private keys: what only the issuer
// could produce, with claims the service itself would never put in (an expired exp, another aud).
import { randomUUID } from 'node:crypto';
import { decodeJwt, importJWK, SignJWT, type JWTPayload } from 'jose';
import type { TestServer } from './server.ts';

export interface SignOptions {
  alg?: 'ES256' | 'RS256';
  typ?: string;
  kid?: string;
}

export async function signWithServerKey(gh: TestServer, claims: JWTPayload, { alg = 'ES256', typ = 'at+jwt', kid }: SignOptions = {}): Promise<string> {
  const jwk = gh.deps.keys.signing.find((key) => key.alg === alg);
  if (!jwk) throw new Error(`the test server has no ${alg} key`);
  const key = await importJWK(jwk, alg);
  return new SignJWT(claims).setProtectedHeader({ alg, typ, kid: kid ?? jwk.kid }).sign(key);
}

/** Claims shaped like the service's own access tokens for `sub`, with `overrides` on top. */
export function accessClaims(gh: TestServer, sub: string, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: gh.deps.config.issuer,
    aud: gh.deps.config.apiAudience,
    sub,
    client_id: 'gatehouse',
    scope: 'api',
    roles: ['user'],
    permissions: [],
    sid: randomUUID(),
    jti: randomUUID(),
    iat: now,
    exp: now + 900,
    ...overrides,
  };
}

/** A copy of a real token with claims changed and the original signature kept. */
export function tamper(token: string, changes: JWTPayload): string {
  const [header, , signature] = token.split('.');
  const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token), ...changes })).toString('base64url');
  return `${header}.${payload}.${signature}`;
}
