// @gatehouse/client/verifier: offline verification of Gatehouse access tokens. Needs only jose.
export { ALLOWED_ALGORITHMS, createTokenVerifier, DEFAULT_ALGORITHMS, DEFAULT_CLOCK_TOLERANCE_SECONDS } from './create.js';
export type { SigningAlgorithm, TokenFailure, TokenVerifier, TokenVerifierOptions, VerifyResult } from './create.js';
export { hasPermission } from './claims.js';
export type { AccessTokenClaims } from './claims.js';
export { VerifierUnavailableError } from './errors.js';
