// The client's tokens and the refreshes that may be under way. Every call asks it for the access
// token to send, and asks again after an UNAUTHORIZED; tokenFor asks it for an API resource's
// token. Concurrent callers share one refresh per token, and all refreshes take turns: each one
// rotates the session's single refresh token.
import { expiresWithin, secondsLeft } from './jwt-expiry.js';
import type { TokenSet, Tokens } from '../types.js';

export interface TokenKeeperOptions {
  tokens: Tokens | null;
  onTokens: ((tokens: TokenSet | null) => void) | undefined;
  /** Rotates the refresh token at the server; with `resource`, the access token is for that resource. */
  refresh: (refreshToken: string, resource?: string) => Promise<TokenSet>;
  /** Whether a failed refresh means the session is over, rather than the network or server failing. */
  isRefusal: (error: unknown) => boolean;
  /** Refresh before use when an access token expires within this many seconds. */
  marginSeconds: number;
  /** What tokenFor rejects with when there is no session. */
  noSession: (resource: string) => Error;
}

export interface TokenKeeper {
  get(): Tokens | null;
  /** Replaces the tokens without calling onTokens: the caller already knows them. */
  set(tokens: Tokens | null): void;
  /** Takes tokens the server handed out (sign-in, refresh) or null (sign-out), and tells onTokens. */
  adopt(tokens: TokenSet | null): void;
  /**
   * Takes what a refresh for `resource` handed out: keeps its access token for that resource and
   * its rotated refresh token for the session, and tells onTokens (see GatehouseClient.tokenFor).
   */
  adoptFor(resource: string, tokens: TokenSet): void;
  /** The access token to send, refreshed first when it is about to expire; undefined for none. */
  forCall(): Promise<string | undefined>;
  /**
   * After `used` was refused: the access token to retry with, refreshing at most once for it, or
   * null when there is nothing better to try. Rejects when the refresh failed for another reason
   * than a refusal (network, server error); the tokens are then kept for a later try.
   */
  afterUnauthorized(used: string | undefined): Promise<string | null>;
  /** An access token for `resource`: the one kept unless it is about to expire, else a refreshed one. */
  tokenFor(resource: string): Promise<string>;
}

const pick = ({ accessToken, refreshToken }: Tokens): Tokens => ({ accessToken, refreshToken });

export function createTokenKeeper(options: TokenKeeperOptions): TokenKeeper {
  let current: Tokens | null = options.tokens ? pick(options.tokens) : null;
  // Counts the times another session (or none) took over: a refresh begun before is void, and the
  // resources' tokens went with the old session. A refresh of the same session does not count.
  let epoch = 0;
  const resourceTokens = new Map<string, string>();
  let inflight: Promise<Tokens | null> | null = null;
  // undefined: the session changed before the refresh could count, so ask the new one.
  const inflightFor = new Map<string, Promise<string | undefined>>();
  let queue: Promise<unknown> = Promise.resolve();

  // One refresh at a time, the main token's and every resource's: a refresh token works once, a
  // second use would end the session, so each refresh sends the one the previous left behind.
  function inTurn<T>(refresh: () => Promise<T>): Promise<T> {
    const turn = queue.then(refresh);
    queue = turn.catch(() => undefined);
    return turn;
  }

  function replace(tokens: Tokens | null): void {
    current = tokens ? pick(tokens) : null;
    epoch += 1;
    resourceTokens.clear();
  }

  function adopt(tokens: TokenSet | null): void {
    replace(tokens);
    options.onTokens?.(tokens);
  }

  function adoptFor(resource: string, tokens: TokenSet): void {
    // No session to keep a main token for: the set is the session, as a sign-in's would be.
    if (!current) return adopt(tokens);
    resourceTokens.set(resource, tokens.accessToken);
    current = { accessToken: current.accessToken, refreshToken: tokens.refreshToken };
    // The session's set as it now is, so that what onTokens persists is always the main token.
    options.onTokens?.({ ...tokens, accessToken: current.accessToken, expiresIn: secondsLeft(current.accessToken) });
  }

  function refreshMain(): Promise<Tokens | null> {
    if (inflight) return inflight;
    const since = epoch;
    inflight = inTurn(async () => {
      try {
        // A sign-in or set() while this waited for its turn wins over it.
        if (epoch !== since || !current) return current;
        let next: TokenSet | null;
        try {
          next = await options.refresh(current.refreshToken);
        } catch (error) {
          if (!options.isRefusal(error)) throw error;
          next = null;
        }
        // A sign-in or set() while the refresh ran wins over it.
        if (epoch === since) {
          if (next) {
            // Same session: the resources' tokens stay good.
            current = pick(next);
            options.onTokens?.(next);
          } else adopt(null);
        }
        return current;
      } finally {
        inflight = null;
      }
    });
    return inflight;
  }

  function refreshFor(resource: string): Promise<string | undefined> {
    const pending = inflightFor.get(resource);
    if (pending) return pending;
    const since = epoch;
    const turn = inTurn(async () => {
      if (epoch !== since || !current) return undefined;
      let next: TokenSet;
      try {
        next = await options.refresh(current.refreshToken, resource);
      } catch (error) {
        if (epoch !== since) return undefined;
        // As for the main token: a refused refresh token ends the session.
        if (options.isRefusal(error)) adopt(null);
        throw error;
      }
      if (epoch !== since) return undefined;
      adoptFor(resource, next);
      return next.accessToken;
    }).finally(() => inflightFor.delete(resource));
    inflightFor.set(resource, turn);
    return turn;
  }

  return {
    get: () => current,
    set: replace,
    adopt,
    adoptFor,
    async forCall() {
      if (inflight) return (await inflight)?.accessToken;
      const tokens = current;
      if (!tokens) return undefined;
      if (!expiresWithin(tokens.accessToken, options.marginSeconds)) return tokens.accessToken;
      return (await refreshMain())?.accessToken;
    },
    async afterUnauthorized(used) {
      if (inflight) return (await inflight)?.accessToken ?? null;
      const tokens = current;
      if (!tokens) return null;
      // Someone refreshed (or signed in) since this call was sent: retry with the newer token.
      if (tokens.accessToken !== used) return tokens.accessToken;
      return (await refreshMain())?.accessToken ?? null;
    },
    async tokenFor(resource) {
      for (;;) {
        if (!current) throw options.noSession(resource);
        const kept = resourceTokens.get(resource);
        if (kept !== undefined && !expiresWithin(kept, options.marginSeconds)) return kept;
        const fresh = await refreshFor(resource);
        if (fresh !== undefined) return fresh;
        // The session changed while the refresh waited or ran: ask the one there is now.
      }
    },
  };
}
