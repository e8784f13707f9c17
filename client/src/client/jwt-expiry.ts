import { decodeJwt } from 'jose';

/**
 * Whether an access token expires within `marginSeconds`, read from its `exp` without verifying
 * it: the client only decides whether to refresh first, the server still checks everything. A
 * token whose expiry cannot be read is sent as it is and the server's answer decides.
 */
export function expiresWithin(accessToken: string, marginSeconds: number, nowMs = Date.now()): boolean {
  let exp: unknown;
  try {
    exp = decodeJwt(accessToken).exp;
  } catch {
    return false;
  }
  return typeof exp === 'number' && exp - marginSeconds <= nowMs / 1000;
}
