// The offline verifier against the real service's discovery document and JWKS.
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, hasPermission, VerifierUnavailableError, type TokenVerifier } from '../../client/src/verifier/index.ts';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';
import { accessClaims, signWithServerKey, tamper } from '../helpers/tokens.ts';

let gh: TestServer;
let verifier: TokenVerifier;
let session: { accessToken: string; user: { id: string } };
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  gh = await startTestServer();
  verifier = createTokenVerifier({ issuer: gh.deps.config.issuer, audience: gh.deps.config.apiAudience });
  session = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data;
});
afterAll(() => gh?.close());

const requestsTo = (path: string) => gh.logs.filter((line) => JSON.parse(line).path === path).length;

describe('createTokenVerifier', () => {
  it('returns the typed claims of a token the service issued', async () => {
    const result = await verifier.verify(session.accessToken);
    expect(result).toEqual({
      ok: true,
      claims: {
        iss: gh.deps.config.issuer,
        aud: gh.deps.config.apiAudience,
        sub: session.user.id,
        client_id: 'gatehouse',
        scope: 'api',
        roles: ['user'],
        permissions: [],
        sid: expect.any(String),
        jti: expect.any(String),
        iat: expect.any(Number),
        exp: expect.any(Number),
      },
    });
  });

  it('accepts both of the service keys (ES256 and RS256) and reads discovery and the JWKS once', async () => {
    for (const alg of ['ES256', 'RS256'] as const) {
      const token = await signWithServerKey(gh, accessClaims(gh, session.user.id), { alg });
      expect((await verifier.verify(token)).ok, alg).toBe(true);
    }
    expect(requestsTo('/oidc/.well-known/openid-configuration')).toBe(1);
    expect(requestsTo('/oidc/jwks')).toBe(1);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const otherAudience = createTokenVerifier({ issuer: gh.deps.config.issuer, audience: 'https://other.example/api' });
    expect(await otherAudience.verify(session.accessToken)).toMatchObject({ ok: false, reason: 'claim_mismatch' });
    const foreignAud = await signWithServerKey(gh, accessClaims(gh, session.user.id, { aud: 'https://other.example/api' }));
    expect(await verifier.verify(foreignAud)).toMatchObject({ ok: false, reason: 'claim_mismatch' });
    const foreignIss = await signWithServerKey(gh, accessClaims(gh, session.user.id, { iss: 'https://evil.example/oidc' }));
    expect(await verifier.verify(foreignIss)).toMatchObject({ ok: false, reason: 'claim_mismatch' });
  });

  it('refuses a tampered token, an unsigned one (alg none) and one signed with HS256 over the public key', async () => {
    expect(await verifier.verify(tamper(session.accessToken, { roles: ['admin'], permissions: ['users:delete'] }))).toMatchObject({ ok: false, reason: 'bad_signature' });

    const [, payload] = session.accessToken.split('.');
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    expect(await verifier.verify(`${header({ alg: 'none', typ: 'at+jwt' })}.${payload}.`)).toMatchObject({ ok: false, reason: 'algorithm_not_allowed' });

    // Algorithm confusion: the public key's bytes used as an HMAC secret.
    const { d: _d, ...publicJwk } = gh.deps.keys.signing[0]!;
    const hs = await new SignJWT(accessClaims(gh, session.user.id))
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: gh.deps.keys.signing[0]!.kid })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expect(await verifier.verify(hs)).toMatchObject({ ok: false, reason: 'algorithm_not_allowed' });
  });

  it('refuses an expired token, within a small leeway', async () => {
    const expired = await signWithServerKey(gh, accessClaims(gh, session.user.id, { iat: now() - 960, exp: now() - 60 }));
    expect(await verifier.verify(expired)).toMatchObject({ ok: false, reason: 'expired' });
    const justExpired = await signWithServerKey(gh, accessClaims(gh, session.user.id, { iat: now() - 901, exp: now() - 1 }));
    expect((await verifier.verify(justExpired)).ok).toBe(true);
  });

  it('refuses a token of another type, a foreign key, and one without the Gatehouse claims', async () => {
    const idTokenLike = await signWithServerKey(gh, accessClaims(gh, session.user.id), { typ: 'JWT' });
    expect(await verifier.verify(idTokenLike)).toMatchObject({ ok: false, reason: 'claim_mismatch' });

    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT(accessClaims(gh, session.user.id)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'not-a-gatehouse-key' }).sign(privateKey);
    expect(await verifier.verify(forged)).toMatchObject({ ok: false, reason: 'unknown_key' });
    // A foreign key under the service's own kid fails on the signature.
    const impostor = await new SignJWT(accessClaims(gh, session.user.id)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: gh.deps.keys.signing[0]!.kid }).sign(privateKey);
    expect(await verifier.verify(impostor)).toMatchObject({ ok: false, reason: 'bad_signature' });

    const { roles: _roles, ...withoutRoles } = accessClaims(gh, session.user.id);
    expect(await verifier.verify(await signWithServerKey(gh, withoutRoles))).toMatchObject({ ok: false, reason: 'claim_mismatch' });
    expect(await verifier.verify('garbage')).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('accepts only the configured algorithms, and never none or HS*', async () => {
    const rsOnly = createTokenVerifier({ issuer: gh.deps.config.issuer, audience: gh.deps.config.apiAudience, algorithms: ['RS256'] });
    expect(await rsOnly.verify(session.accessToken)).toMatchObject({ ok: false, reason: 'algorithm_not_allowed' });
    for (const algorithms of [['none'], ['HS256'], []]) {
      expect(() => createTokenVerifier({ issuer: gh.deps.config.issuer, audience: 'a', algorithms: algorithms as never })).toThrow(TypeError);
    }
  });

  it('throws VerifierUnavailableError, not a verdict, when the issuer cannot be trusted or reached', async () => {
    // Discovery answers for this URL, but names another issuer.
    const misnamed = createTokenVerifier({ issuer: `${gh.deps.config.issuer}/`, audience: gh.deps.config.apiAudience });
    await expect(misnamed.verify(session.accessToken)).rejects.toBeInstanceOf(VerifierUnavailableError);
    const unreachable = createTokenVerifier({ issuer: 'http://127.0.0.1:9/oidc', audience: gh.deps.config.apiAudience });
    await expect(unreachable.verify(session.accessToken)).rejects.toBeInstanceOf(VerifierUnavailableError);
    // Garbage is refused without asking the issuer.
    expect(await unreachable.verify('garbage')).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('hasPermission', () => {
  it('reads the permissions claim', () => {
    expect(hasPermission({ permissions: ['users:read'] }, 'users:read')).toBe(true);
    expect(hasPermission({ permissions: ['users:read'] }, 'users:write')).toBe(false);
  });
});
