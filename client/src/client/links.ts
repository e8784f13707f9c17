// The two links in front of the HTTP link: one keeps the tokens the server hands out, the other
// attaches the access token and refreshes it.
import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import type { AppRouter } from '../app-router.js';
import { isUnauthorized } from './errors.js';
import type { TokenKeeper } from './token-keeper.js';
import type { ProcedurePath, TokenSet } from '../types.js';

/** The operation-context key under which authLink hands the access token to the HTTP link. */
export const ACCESS_TOKEN = 'gatehouse.accessToken';

/**
 * Procedures that take no access token (the public auth.* ones). Their UNAUTHORIZED means wrong
 * credentials or a dead refresh token, never an expired access token, so it must not trigger a
 * refresh; nor should an expiring access token delay a sign-in.
 */
const PUBLIC: ReadonlySet<string> = new Set<ProcedurePath>([
  'auth.register',
  'auth.login',
  'auth.verifyMfa',
  'auth.refresh',
  'auth.verify',
  'auth.requestPasswordReset',
  'auth.resetPassword',
  'auth.verifyEmail',
  'auth.confirmEmailChange',
]);
const ISSUES_TOKENS: ReadonlySet<string> = new Set<ProcedurePath>(['auth.register', 'auth.login', 'auth.verifyMfa', 'auth.refresh']);

/** The TokenSet in a result, if any: a sign-in's answer may be a challenge instead. */
function tokenSetIn(path: string, data: unknown): TokenSet | undefined {
  const value = path === 'me.mfa.totp.confirm' ? (data as { tokens?: unknown }).tokens : ISSUES_TOKENS.has(path) ? data : undefined;
  return typeof value === 'object' && value !== null && 'accessToken' in value ? (value as TokenSet) : undefined;
}

const toClientError = (error: unknown) => TRPCClientError.from<AppRouter>(error instanceof Error ? error : new Error(String(error)));

/**
 * Adopts the TokenSet of a sign-in or refresh, and drops the tokens when their session logs out.
 * GatehouseClient.tokenFor, not a call of auth.refresh with `resource`, is the way to a resource's
 * token: its refreshes take turns with the main token's.
 */
export function sessionLink(keeper: TokenKeeper): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const subscription = next(op).subscribe({
          next(envelope) {
            const result = envelope.result;
            try {
              const input = op.input as { refreshToken?: unknown; resource?: unknown } | undefined;
              const issued = 'data' in result ? tokenSetIn(op.path, result.data) : undefined;
              if (issued) {
                // A refresh of this session for a resource keeps the main access token: its own is for another API.
                const ownRefresh = op.path === 'auth.refresh' && input?.refreshToken === keeper.get()?.refreshToken;
                if (ownRefresh && typeof input?.resource === 'string') keeper.adoptFor(input.resource, issued);
                else keeper.adopt(issued);
              }
              // A logout without a refresh token ends the session of the access token sent with it.
              const endsOwnSession = op.path === 'auth.logout' && (input?.refreshToken === undefined || input.refreshToken === keeper.get()?.refreshToken);
              // auth.logoutAll ends the caller's own session along with the others.
              if ('data' in result && (endsOwnSession || op.path === 'auth.logoutAll')) keeper.adopt(null);
            } catch (error) {
              // onTokens threw: the caller should hear of it rather than lose it.
              observer.error(toClientError(error));
              return;
            }
            observer.next(envelope);
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        });
        return () => subscription.unsubscribe();
      });
}

/**
 * Sends the access token with every call that needs one. Before the call it refreshes a token that
 * is about to expire; after an UNAUTHORIZED it refreshes (or picks up a refresh another call made)
 * and retries once. A second UNAUTHORIZED reaches the caller.
 */
export function authLink(keeper: TokenKeeper): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) => {
      if (PUBLIC.has(op.path)) return next(op);
      return observable((observer) => {
        let subscription: Unsubscribable | undefined;
        let closed = false;
        const fail = (error: unknown) => {
          if (!closed) observer.error(toClientError(error));
        };
        const send = (accessToken: string | undefined, mayRetry: boolean) => {
          if (closed) return;
          subscription = next({ ...op, context: { ...op.context, [ACCESS_TOKEN]: accessToken } }).subscribe({
            next: (envelope) => observer.next(envelope),
            complete: () => observer.complete(),
            error(error) {
              if (!mayRetry || !isUnauthorized(error)) return observer.error(error);
              keeper
                .afterUnauthorized(accessToken)
                .then((fresh) => (fresh === null ? fail(error) : send(fresh, false)))
                .catch(fail);
            },
          });
        };
        keeper
          .forCall()
          .then((accessToken) => send(accessToken, true))
          .catch(fail);
        return () => {
          closed = true;
          subscription?.unsubscribe();
        };
      });
    };
}
