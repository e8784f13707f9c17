import type { JWTPayload } from 'jose';
import type { RequestMeta } from '../common/audit-events.ts';

export interface AccessClaims extends JWTPayload {
  sub: string;
  client_id: string;
  scope?: string;
  roles: string[];
  permissions: string[];
  /** The session (grant) the token belongs to; absent for client credentials. */
  sid?: string;
  exp: number;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sid: string;
}

export type RefreshResult = { ok: true; tokens: Omit<IssuedTokens, 'sid'>; userId: string } | { ok: false; reason: string };

export interface TokenService {
  /** Starts a session for a signed-in user: a Grant, a JWT access token and a refresh token. */
  mint(userId: string, meta: RequestMeta): Promise<IssuedTokens>;
  /** Rotates a refresh token at the token endpoint; RATE_LIMITED or UNAVAILABLE as it answers. */
  refresh(refreshToken: string, meta: RequestMeta): Promise<RefreshResult>;
  /** Signature, typ, issuer, audience and expiry, checked locally against the published keys. */
  verifySignature(token: string): Promise<AccessClaims | null>;
}
