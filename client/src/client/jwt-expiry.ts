import { decodeJwt } from 'jose';

/** The token's `exp`, read without verifying it; undefined when it cannot be read. */
function expOf(accessToken: string): number | undefined {
  let exp: unknown;
  try {
    exp = decodeJwt(accessToken).exp;
  } catch {
    return undefined;
  }
  return typeof exp === 'number' ? exp : undefined;
}

/**
 * Whether an access token expires within `marginSeconds`, read from its `exp` without verifying
 * it: the client only decides whether to refresh first, the server still checks everything. A
 * token whose expiry cannot be read is sent as it is and the server's answer decides.
 */
export function expiresWithin(accessToken: string, marginSeconds: number, nowMs = Date.now()): boolean {
  const exp = expOf(accessToken);
  return exp !== undefined && exp - marginSeconds <= nowMs / 1000;
}

/** Whole seconds until the token expires (0 once it has), or 0 when its expiry cannot be read. */
export function secondsLeft(accessToken: string, nowMs = Date.now()): number {
  const exp = expOf(accessToken);
  return exp === undefined ? 0 : Math.max(0, Math.floor(exp - nowMs / 1000));
}
