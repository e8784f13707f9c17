// The framework-free core of the middleware: from an Authorization header and the route's
// parameters to the token's claims, or to the 401/403 answer to give.
import { hasPermission, type AccessTokenClaims } from '../verifier/claims.js';
import type { TokenVerifier } from '../verifier/create.js';

export interface GuardOptions {
  /** A permission the token must carry, e.g. 'users:read'. */
  permission?: string | undefined;
  /**
   * The route parameter holding a user id that must be the token's `sub` (e.g. 'userId' for
   * /api/:userId/tasks). A route without that parameter is refused: failing closed beats
   * silently skipping the check.
   */
  userIdParam?: string | undefined;
}

/** What the guard needs from a request. The token is read from the Authorization header only, never from a query string. */
export interface GuardRequest {
  authorization: string | undefined;
  params?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface Refusal {
  status: 401 | 403;
  code: 'UNAUTHORIZED' | 'FORBIDDEN';
  message: string;
  /** RFC 6750 challenge for the WWW-Authenticate header, when the answer has one. */
  challenge?: string;
}

export type GuardResult = { ok: true; claims: AccessTokenClaims } | { ok: false; refusal: Refusal };

export type Guard = (request: GuardRequest) => Promise<GuardResult>;

// RFC 6750 section 2.1; the scheme is case-insensitive (RFC 9110 section 11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const MISSING: Refusal = { status: 401, code: 'UNAUTHORIZED', message: 'Sign in required', challenge: 'Bearer' };
const refuseToken = (description: string): Refusal => ({
  status: 401,
  code: 'UNAUTHORIZED',
  message: description,
  challenge: `Bearer error="invalid_token", error_description="${description}"`,
});

/**
 * Makes a guard: a valid access token (401 otherwise), then the permission, then the owner check
 * (403). Rejects only when the verifier cannot reach the issuer (VerifierUnavailableError), which
 * each adapter hands to its framework as a server error.
 */
export function requireToken(verifier: Pick<TokenVerifier, 'verify'>, options: GuardOptions = {}): Guard {
  return async ({ authorization, params }) => {
    if (!authorization) return { ok: false, refusal: MISSING };
    const token = BEARER.exec(authorization)?.[1];
    if (!token) return { ok: false, refusal: refuseToken('The Authorization header must be Bearer <token>') };
    const verdict = await verifier.verify(token);
    if (!verdict.ok) return { ok: false, refusal: refuseToken(verdict.reason === 'expired' ? 'The access token expired' : 'The access token is invalid') };
    const { claims } = verdict;
    if (options.permission !== undefined && !hasPermission(claims, options.permission)) {
      return {
        ok: false,
        refusal: { status: 403, code: 'FORBIDDEN', message: `Permission required: ${options.permission}`, challenge: `Bearer error="insufficient_scope"` },
      };
    }
    if (options.userIdParam !== undefined && params?.[options.userIdParam] !== claims.sub) {
      return { ok: false, refusal: { status: 403, code: 'FORBIDDEN', message: "Not allowed on another user's resources" } };
    }
    return { ok: true, claims };
  };
}

export function refusalBody(refusal: Refusal): string {
  return JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
}
