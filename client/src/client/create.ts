// createGatehouseClient: the typed tRPC client for Gatehouse, which keeps the tokens of one session.
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../app-router.js';
import { isRefreshRefused, notSignedIn } from './errors.js';
import { ACCESS_TOKEN, authLink, sessionLink } from './links.js';
import { createTokenKeeper } from './token-keeper.js';
import type { MfaChallenge, RouterOutputs, TokenSet, Tokens, TotpEnrollment } from '../types.js';

export interface GatehouseClientOptions {
  /** The service's base URL ($PUBLIC_URL); the client calls `${url}/trpc`. */
  url: string;
  /** Tokens of a session to resume, e.g. from storage. */
  tokens?: Tokens | null | undefined;
  /**
   * Called synchronously when the tokens change: with the TokenSet of a sign-in, registration or
   * refresh, or null when the session is over. Persist them here; if it throws, the call that
   * changed them fails with that error (the new tokens are kept). A refresh for tokenFor rotates
   * the refresh token too: it is reported as the session's TokenSet, with the new refreshToken and
   * the unchanged main accessToken (see tokenFor), so what was persisted last is always resumable.
   */
  onTokens?: ((tokens: TokenSet | null) => void) | undefined;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * Refresh before a call when the access token expires within this many seconds (default 10); the
   * same margin applies to the tokens tokenFor keeps.
   */
  refreshMarginSeconds?: number | undefined;
}

/** Reads or replaces the client's tokens, e.g. when another tab has refreshed them. onTokens is not called. */
export interface TokenControl {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

/** A code for a sign-in challenge: the authenticator app's 6 digits, or one of the recovery codes. */
export type MfaAnswer = { code: string; recoveryCode?: never } | { recoveryCode: string; code?: never };

/** Enrolment with the token of a sign-in that MFA_REQUIRED_ROLES held back (`mfaEnrollmentRequired`). */
export interface MfaEnroller {
  /** A new secret, its otpauth:// URL and a QR code (SVG) to show. */
  begin(): Promise<TotpEnrollment>;
  /** Turns the factor on with a first code; the answer's tokens become the client's session (onTokens). */
  confirm(code: string): Promise<RouterOutputs['me']['mfa']['totp']['confirm']>;
}

export type GatehouseClient = TRPCClient<AppRouter> & {
  /**
   * Not a procedure: answers the challenge auth.login returned (`mfaRequired`) with a code; the
   * tokens become the client's session, as a sign-in's do.
   */
  verifyMfa(challenge: Pick<MfaChallenge, 'mfaToken'>, answer: MfaAnswer): Promise<TokenSet>;
  /** Not a procedure: enrolment for a sign-in that answered `mfaEnrollmentRequired`. */
  enrollMfa(enrollmentToken: string): MfaEnroller;
  /** Not a procedure: the client's own tokens. */
  readonly $tokens: TokenControl;
  /**
   * Not a procedure: an access token for the API resource `resource` (its registered identifier,
   * the token's `aud`), from this client's session. The token got last is returned while it does
   * not expire within refreshMarginSeconds; otherwise auth.refresh gets one for `resource`.
   * Concurrent calls for one resource share one refresh, and every refresh, the main token's too,
   * waits for the one before: each rotates the session's one refresh token.
   *
   * Such a refresh calls onTokens with the session's TokenSet: the new refreshToken and user, the
   * main accessToken as it was (expiresIn counted for it). The resources' tokens are in no
   * TokenSet and not persisted; after a reload, tokenFor gets them anew.
   *
   * Rejects with an UNAUTHORIZED TRPCClientError (isUnauthorized) when there is no session, before
   * any request. Rejects with the server's error when it refuses the refresh token
   * (isRefreshRefused): the session is over, as on the main token's refusal, and onTokens(null) was
   * called. Rejects with the server's error, the session kept, when it refuses `resource`
   * (isResourceRefused) and when the refresh fails otherwise (network, 5xx, 429). Signing out, a
   * new sign-in and $tokens.set() forget the resources' tokens.
   */
  tokenFor(resource: string): Promise<string>;
};

export const DEFAULT_REFRESH_MARGIN_SECONDS = 10;

export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  const url = `${options.url.replace(/\/+$/, '')}/trpc`;
  const transport = () =>
    httpLink<AppRouter>({
      url,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      headers({ op }) {
        const accessToken = op.context[ACCESS_TOKEN];
        return typeof accessToken === 'string' ? { authorization: `Bearer ${accessToken}` } : {};
      },
    });

  // Refreshes go through a client of their own: no bearer token, no retry, and no waiting on the
  // refresh they are themselves.
  const refresher = createTRPCClient<AppRouter>({ links: [transport()] });
  const keeper = createTokenKeeper({
    tokens: options.tokens ?? null,
    onTokens: options.onTokens,
    refresh: (refreshToken, resource) => refresher.auth.refresh.mutate(resource === undefined ? { refreshToken } : { refreshToken, resource }),
    isRefusal: isRefreshRefused,
    marginSeconds: options.refreshMarginSeconds ?? DEFAULT_REFRESH_MARGIN_SECONDS,
    noSession: (resource) => notSignedIn(`Not signed in: no session to get a token for ${resource} from`),
  });
  const client = createTRPCClient<AppRouter>({ links: [sessionLink(keeper), authLink(keeper), transport()] });
  const control: TokenControl = { get: keeper.get, set: keeper.set };
  const extras: Record<string | symbol, unknown> = {
    $tokens: control,
    tokenFor: (resource: string) => keeper.tokenFor(resource),
    verifyMfa: (challenge: Pick<MfaChallenge, 'mfaToken'>, answer: MfaAnswer) => client.auth.verifyMfa.mutate({ mfaToken: challenge.mfaToken, ...answer }),
    enrollMfa(enrollmentToken: string): MfaEnroller {
      // The enrolment token is the bearer of these two calls only; it never becomes the session's.
      const enroller = createTRPCClient<AppRouter>({
        links: [httpLink<AppRouter>({ url, ...(options.fetch ? { fetch: options.fetch } : {}), headers: () => ({ authorization: `Bearer ${enrollmentToken}` }) })],
      });
      return {
        begin: () => enroller.me.mfa.totp.begin.mutate(),
        async confirm(code) {
          const result = await enroller.me.mfa.totp.confirm.mutate({ code });
          if (result.tokens) keeper.adopt(result.tokens);
          return result;
        },
      };
    },
  };
  return new Proxy(client, {
    get: (target, key) => (Object.hasOwn(extras, key) ? extras[key] : Reflect.get(target, key)),
  }) as GatehouseClient;
}
