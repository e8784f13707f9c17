// createTokenVerifier: checks Gatehouse access tokens offline, against the issuer's published keys.
// Token problems are values (VerifyResult); only an unreachable or misconfigured issuer throws.
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { toClaims, type AccessTokenClaims } from './claims.js';
import { discover } from './discovery.js';
import { VerifierUnavailableError } from './errors.js';

/** Asymmetric algorithms only: 'none' and the HMAC family (HS*) can never be configured. */
export const ALLOWED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;
export type SigningAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export interface TokenVerifierOptions {
  /** The issuer, $PUBLIC_URL/oidc; it must equal the `issuer` of its discovery document. */
  issuer: string;
  /** The audience the tokens must name, $PUBLIC_URL/api for Gatehouse's own API. */
  audience: string;
  /** Accepted signing algorithms; default ES256 and RS256, the ones Gatehouse signs with. */
  algorithms?: SigningAlgorithm[] | undefined;
  /** Leeway for exp and nbf against clock skew; default 5 seconds. */
  clockToleranceSeconds?: number | undefined;
}

export type TokenFailure = 'malformed' | 'algorithm_not_allowed' | 'unknown_key' | 'bad_signature' | 'expired' | 'claim_mismatch';

export type VerifyResult = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: TokenFailure; message: string };

export interface TokenVerifier {
  readonly issuer: string;
  readonly audience: string;
  /** Resolves to the token's claims or the reason it is refused; rejects only with VerifierUnavailableError. */
  verify(token: string): Promise<VerifyResult>;
}

export const DEFAULT_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;

// jose's error codes that judge the token, by the reason they give. Any other error while checking
// a token is a refusal too ('malformed'): nothing a client sends may turn into a server error.
const FAILURES: Record<string, TokenFailure> = {
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
  ERR_JOSE_NOT_SUPPORTED: 'malformed',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm_not_allowed',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'unknown_key',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad_signature',
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claim_mismatch',
};

// jose's errors that say the key set could not be had (a timeout, a non-200 answer, a body that
// is no key set): no verdict on the token. So are the fetch's own failures (below).
const KEY_SET_UNAVAILABLE = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, audience } = options;
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  // Types keep TypeScript callers honest; this keeps JavaScript callers honest.
  const refused = algorithms.filter((alg) => !(ALLOWED_ALGORITHMS as readonly string[]).includes(alg));
  if (algorithms.length === 0 || refused.length > 0) throw new TypeError(`createTokenVerifier: algorithms not allowed: ${refused.join(', ') || '(none given)'}`);
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;

  // Discovery runs once, for the first token that parses; a failure is not cached. jose caches the
  // key set and refetches it for an unknown kid.
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const unavailable = (error: unknown) => new VerifierUnavailableError(`cannot fetch the keys of ${issuer}: ${(error as Error).message}`, { cause: error });
  const fetchKeys: typeof fetch = (url, init) =>
    fetch(url, init).catch((error: unknown) => {
      throw unavailable(error);
    });
  const loadKeys = () => {
    keys ??= discover(issuer).then(
      ({ jwksUri }) => createRemoteJWKSet(jwksUri, { [customFetch]: fetchKeys }),
      (error: unknown) => {
        keys = undefined;
        throw error;
      },
    );
    return keys;
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    const keySet = await loadKeys();
    try {
      return await keySet(header, token);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw typeof code === 'string' && KEY_SET_UNAVAILABLE.has(code) ? unavailable(error) : error;
    }
  };

  return {
    issuer,
    audience,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, getKey, {
          algorithms,
          typ: 'at+jwt',
          issuer,
          audience,
          clockTolerance,
          requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
        });
        const claims = toClaims(payload);
        return claims ? { ok: true, claims } : { ok: false, reason: 'claim_mismatch', message: 'missing or malformed Gatehouse claims' };
      } catch (error) {
        if (error instanceof VerifierUnavailableError) throw error;
        const code = (error as { code?: unknown }).code;
        return { ok: false, reason: (typeof code === 'string' ? FAILURES[code] : undefined) ?? 'malformed', message: (error as Error).message };
      }
    },
  };
}
