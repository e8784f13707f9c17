// Plain node:http. Structural types, so the package needs no @types/node.
import type { AccessTokenClaims } from '../verifier/claims.js';
import { refusalBody, type Guard, type Refusal } from './guard.js';

export interface NodeRequestLike {
  readonly headers: { readonly authorization?: string | undefined };
}

export interface NodeResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export function sendRefusal(res: NodeResponseLike, refusal: Refusal): void {
  res.statusCode = refusal.status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (refusal.challenge) res.setHeader('www-authenticate', refusal.challenge);
  res.end(refusalBody(refusal));
}

/**
 * For a node:http handler: resolves to the claims, or answers 401/403 itself and resolves to null.
 * Pass the route's parameters (node:http has no router) when the guard checks a user id.
 *
 *   const claims = await authenticate(req, res, { userId });
 *   if (!claims) return;
 */
export function toNodeHttp(guard: Guard) {
  return async (req: NodeRequestLike, res: NodeResponseLike, params?: Readonly<Record<string, string | undefined>>): Promise<AccessTokenClaims | null> => {
    const result = await guard({ authorization: req.headers.authorization, params });
    if (result.ok) return result.claims;
    sendRefusal(res, result.refusal);
    return null;
  };
}
