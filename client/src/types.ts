// Types of the wire, all derived from the router: no hand-written twins of the server's shapes.
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './app-router.js';

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** What auth.register, auth.login and auth.refresh return. */
export type TokenSet = RouterOutputs['auth']['login'];
export type User = TokenSet['user'];

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
