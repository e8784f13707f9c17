// @gatehouse/client: the typed tRPC client. Token verification for resource servers lives in
// './verifier' and './middleware', which need neither tRPC package.
export { createGatehouseClient, DEFAULT_REFRESH_MARGIN_SECONDS } from './client/create.js';
export type { GatehouseClient, GatehouseClientOptions, MfaAnswer, MfaEnroller, TokenControl } from './client/create.js';
export { isRefreshRefused, isResourceRefused, isUnauthorized } from './client/errors.js';
export type { AppRouter } from './app-router.js';
export { isMfaChallenge, isMfaEnrollment, isTokenSet } from './types.js';
export type { LoginResult, MfaChallenge, MfaEnrollment, ProcedurePath, RouterInputs, RouterOutputs, TokenSet, Tokens, TotpEnrollment, User } from './types.js';
export { TRPCClientError } from '@trpc/client';
