// The claims of a Gatehouse access token, checked for shape after the signature: a token that
// verifies but lacks them is refused rather than half-trusted.
import type { JWTPayload } from 'jose';

export interface AccessTokenClaims {
  iss: string;
  /** The user id, or the client id for client credentials. */
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope?: string;
  roles: string[];
  permissions: string[];
  /** The session the token belongs to; absent for client credentials. */
  sid?: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

/** The payload as AccessTokenClaims, or null when a claim is missing or of the wrong type, or a `cnf` binds it. */
export function toClaims(payload: JWTPayload): AccessTokenClaims | null {
  const { iss, sub, aud, exp, iat, jti, client_id, scope, roles, permissions, sid, cnf } = payload;
  // A token bound to a key (DPoP, mTLS: `cnf`) is not a bearer token; this verifier checks no proof of possession.
  const valid =
    cnf === undefined &&
    isString(iss) &&
    isString(sub) &&
    (isString(aud) || isStringArray(aud)) &&
    typeof exp === 'number' &&
    typeof iat === 'number' &&
    isString(jti) &&
    isString(client_id) &&
    (scope === undefined || isString(scope)) &&
    isStringArray(roles) &&
    isStringArray(permissions) &&
    (sid === undefined || isString(sid));
  if (!valid) return null;
  return {
    iss,
    sub,
    aud,
    exp,
    iat,
    jti,
    client_id,
    ...(scope === undefined ? {} : { scope }),
    roles,
    permissions,
    ...(sid === undefined ? {} : { sid }),
  };
}

/** Whether the token carries the permission (e.g. 'users:read'); the admin role's tokens carry them all. */
export function hasPermission(claims: Pick<AccessTokenClaims, 'permissions'>, permission: string): boolean {
  return claims.permissions.includes(permission);
}
