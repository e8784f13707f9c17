// The client's tokens and the one refresh that may be under way. Every call asks it for the access
// token to send, and asks again after an UNAUTHORIZED; concurrent callers share one refresh.
import { expiresWithin } from './jwt-expiry.js';
import type { TokenSet, Tokens } from '../types.js';

export interface TokenKeeperOptions {
  tokens: Tokens | null;
  onTokens: ((tokens: TokenSet | null) => void) | undefined;
  /** Rotates the refresh token at the server. */
  refresh: (refreshToken: string) => Promise<TokenSet>;
  /** Whether a failed refresh means the session is over, rather than the network or server failing. */
  isRefusal: (error: unknown) => boolean;
  /** Refresh before a call when the access token expires within this many seconds. */
  marginSeconds: number;
}

export interface TokenKeeper {
  get(): Tokens | null;
  /** Replaces the tokens without calling onTokens: the caller already knows them. */
  set(tokens: Tokens | null): void;
  /** Takes tokens the server handed out (sign-in, refresh) or null (sign-out), and tells onTokens. */
  adopt(tokens: TokenSet | null): void;
  /** The access token to send, refreshed first when it is about to expire; undefined for none. */
  forCall(): Promise<string | undefined>;
  /**
   * After `used` was refused: the access token to retry with, refreshing at most once for it, or
   * null when there is nothing better to try. Rejects when the refresh failed for another reason
   * than a refusal (network, server error); the tokens are then kept for a later try.
   */
  afterUnauthorized(used: string | undefined): Promise<string | null>;
}

const pick = ({ accessToken, refreshToken }: Tokens): Tokens => ({ accessToken, refreshToken });

export function createTokenKeeper(options: TokenKeeperOptions): TokenKeeper {
  let current: Tokens | null = options.tokens ? pick(options.tokens) : null;
  let inflight: Promise<Tokens | null> | null = null;

  function adopt(tokens: TokenSet | null): void {
    current = tokens ? pick(tokens) : null;
    options.onTokens?.(tokens);
  }

  // One refresh at a time: a refresh token works once, and a second use would end the session.
  function refreshFrom(stale: Tokens): Promise<Tokens | null> {
    inflight ??= (async () => {
      try {
        let next: TokenSet | null;
        try {
          next = await options.refresh(stale.refreshToken);
        } catch (error) {
          if (!options.isRefusal(error)) throw error;
          next = null;
        }
        // A sign-in or set() while the refresh ran wins over it.
        if (current === stale) adopt(next);
        return current;
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  }

  return {
    get: () => current,
    set(tokens) {
      current = tokens ? pick(tokens) : null;
    },
    adopt,
    async forCall() {
      if (inflight) return (await inflight)?.accessToken;
      const tokens = current;
      if (!tokens) return undefined;
      if (!expiresWithin(tokens.accessToken, options.marginSeconds)) return tokens.accessToken;
      return (await refreshFrom(tokens))?.accessToken;
    },
    async afterUnauthorized(used) {
      if (inflight) return (await inflight)?.accessToken ?? null;
      const tokens = current;
      if (!tokens) return null;
      // Someone refreshed (or signed in) since this call was sent: retry with the newer token.
      if (tokens.accessToken !== used) return tokens.accessToken;
      return (await refreshFrom(tokens))?.accessToken ?? null;
    },
  };
}
