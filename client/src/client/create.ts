// createGatehouseClient: the typed tRPC client for Gatehouse, which keeps the tokens of one session.
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../app-router.js';
import { isRefreshRefused } from './errors.js';
import { ACCESS_TOKEN, authLink, sessionLink } from './links.js';
import { createTokenKeeper } from './token-keeper.js';
import type { TokenSet, Tokens } from '../types.js';

export interface GatehouseClientOptions {
  /** The service's base URL ($PUBLIC_URL); the client calls `${url}/trpc`. */
  url: string;
  /** Tokens of a session to resume, e.g. from storage. */
  tokens?: Tokens | null | undefined;
  /**
   * Called synchronously when the tokens change: with the TokenSet of a sign-in, registration or
   * refresh, or null when the session is over. Persist them here; if it throws, the call that
   * changed them fails with that error (the new tokens are kept).
   */
  onTokens?: ((tokens: TokenSet | null) => void) | undefined;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof globalThis.fetch | undefined;
  /** Refresh before a call when the access token expires within this many seconds (default 10). */
  refreshMarginSeconds?: number | undefined;
}

/** Reads or replaces the client's tokens, e.g. when another tab has refreshed them. onTokens is not called. */
export interface TokenControl {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

export type GatehouseClient = TRPCClient<AppRouter> & {
  /** Not a procedure: the client's own tokens. */
  readonly $tokens: TokenControl;
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
    refresh: (refreshToken) => refresher.auth.refresh.mutate({ refreshToken }),
    isRefusal: isRefreshRefused,
    marginSeconds: options.refreshMarginSeconds ?? DEFAULT_REFRESH_MARGIN_SECONDS,
  });
  const client = createTRPCClient<AppRouter>({ links: [sessionLink(keeper), authLink(keeper), transport()] });
  const control: TokenControl = { get: keeper.get, set: keeper.set };
  return new Proxy(client, {
    get: (target, key) => (key === '$tokens' ? control : Reflect.get(target, key)),
  }) as GatehouseClient;
}
