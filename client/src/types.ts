// Types of the wire, all derived from the router: no hand-written twins of the server's shapes.
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './app-router.js';

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** The tokens of a session: what auth.refresh and auth.verifyMfa return, and auth.login without a second factor. */
export type TokenSet = RouterOutputs['auth']['refresh'];
export type User = TokenSet['user'];

/**
 * What auth.login returns: tokens, a challenge to answer with a code (`mfaRequired`), or, when the
 * service requires a second factor of the account's roles, an enrolment to make first
 * (`mfaEnrollmentRequired`). TypeScript makes the caller tell them apart before reading any tokens.
 */
export type LoginResult = RouterOutputs['auth']['login'];
export type MfaChallenge = Extract<LoginResult, { mfaRequired: true }>;
export type MfaEnrollment = Extract<LoginResult, { mfaEnrollmentRequired: true }>;
export type TotpEnrollment = RouterOutputs['me']['mfa']['totp']['begin'];

export const isMfaChallenge = (result: LoginResult | RouterOutputs['auth']['register']): result is MfaChallenge => 'mfaRequired' in result;
export const isMfaEnrollment = (result: LoginResult | RouterOutputs['auth']['register']): result is MfaEnrollment => 'mfaEnrollmentRequired' in result;
export const isTokenSet = (result: LoginResult | RouterOutputs['auth']['register']): result is TokenSet => 'accessToken' in result;

/** The part of a TokenSet the client needs to act for a user; a TokenSet is one. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

type PathsOf<TRecord, TPrefix extends string = ''> = {
  [K in keyof TRecord & string]: TRecord[K] extends { _def: { procedure: true } } ? `${TPrefix}${K}` : PathsOf<TRecord[K], `${TPrefix}${K}.`>;
}[keyof TRecord & string];

/** Every procedure's dotted path, e.g. 'auth.login' or 'me.get'. */
export type ProcedurePath = PathsOf<AppRouter['_def']['record']>;
