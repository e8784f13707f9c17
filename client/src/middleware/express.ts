// Express (4 and 5). Structural types, so the package needs neither express nor its types.
import type { AccessTokenClaims } from '../verifier/claims.js';
import type { Guard } from './guard.js';
import { sendRefusal, type NodeRequestLike, type NodeResponseLike } from './node.js';

export interface ExpressRequestLike extends NodeRequestLike {
  readonly params?: Readonly<Record<string, string | undefined>>;
}

export interface ExpressResponseLike extends NodeResponseLike {
  locals: Record<string, unknown>;
}

/** Express middleware: puts the claims in `res.locals.auth` (see claimsOf) or answers 401/403. */
export function toExpress(guard: Guard) {
  return (req: ExpressRequestLike, res: ExpressResponseLike, next: (error?: unknown) => void): void => {
    guard({ authorization: req.headers.authorization, params: req.params }).then((result) => {
      if (!result.ok) return sendRefusal(res, result.refusal);
      res.locals.auth = result.claims;
      next();
    }, next);
  };
}

/** The claims toExpress stored for this response. */
export function claimsOf(res: { locals: Record<string, unknown> }): AccessTokenClaims {
  const claims = res.locals.auth as AccessTokenClaims | undefined;
  if (!claims) throw new Error('claimsOf: no claims on this response; is toExpress(...) in front of the handler?');
  return claims;
}
