import type { JWTPayload } from 'jose';
import type { RequestMeta } from '../common/audit-events.ts';

export interface AccessClaims extends JWTPayload {
  sub: string;
  client_id: string;
  scope?: string;
  roles: string[];
  permissions: string[];
  aud: string;
  /** The session (grant) the token belongs to; absent for client credentials. */
  sid?: string;
  /** How the user signed in (RFC 8176): ["pwd"] or ["pwd","otp"]; absent for client credentials. */
  amr?: string[];
  exp: number;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sid: string;
}

export type RefreshResult = { ok: true; tokens: Omit<IssuedTokens, 'sid'>; userId: string } | { ok: false; reason: string };

/** An API resource as tokens see it: its permission names, or null for Gatehouse's own API. */
export interface TokenResource {
  identifier: string;
  permissions: ReadonlySet<string> | null;
}

export interface TokenService {
  /** The registered resource `identifier` (Gatehouse's own API included), or undefined. */
  findResource(identifier: string): Promise<TokenResource | undefined>;
  /** Starts a session for a signed-in user: a Grant, a JWT access token for `resource` (Gatehouse's API
   *  by default) and a refresh token, both naming the sign-in methods `amr` (RFC 8176; default pwd). */
  mint(userId: string, meta: RequestMeta, resource?: TokenResource, amr?: readonly string[]): Promise<IssuedTokens>;
  /** Rotates a refresh token at the token endpoint, for `resource` if given (RFC 8707); RATE_LIMITED or
   *  UNAVAILABLE as it answers. */
  refresh(refreshToken: string, meta: RequestMeta, resource?: TokenResource): Promise<RefreshResult>;
  /** Signature, typ, issuer, audience and expiry, checked locally against the published keys. The
   *  audience is Gatehouse's own API, or with `anyAudience` any single one (the caller checks it). */
  verifySignature(token: string, options?: { anyAudience?: boolean }): Promise<AccessClaims | null>;
}
