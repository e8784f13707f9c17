// The one tRPC root. Routers use only the procedures exported here.
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError, z } from 'zod';
import { AppError, ERROR_STATUS } from '../errors.ts';
import type { Context } from './context.ts';
import type { AccessClaims } from '../oidc/tokens.ts';
import type { Permission } from '../services/rbac.ts';
import { loadSignedIn } from '../services/signed-in.ts';

const t = initTRPC.context<Context>().create({
  // Never a stack trace on the wire, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const { stack: _stack, ...data } = shape.data;
    const cause = error.cause;
    let message = shape.message;
    const extra: { fieldErrors?: Record<string, string[]>; retryAfterSeconds?: number } = {};
    if (cause instanceof ZodError) {
      message = 'Invalid input';
      extra.fieldErrors = fieldErrorsOf(cause);
    } else if (cause instanceof AppError) {
      if (cause.details.fieldErrors) extra.fieldErrors = cause.details.fieldErrors;
      if (cause.details.retryAfterSeconds !== undefined) extra.retryAfterSeconds = cause.details.retryAfterSeconds;
    } else if (error.code === 'INTERNAL_SERVER_ERROR') {
      message = 'Internal error';
    }
    // One shape for every error, so clients read fieldErrors and retryAfterSeconds without narrowing.
    return { ...shape, message, data: { ...data, ...extra } };
  },
});

function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.join('.') : '_';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/** Turns the services' AppError into the matching tRPC error: the only place that does. */
const translateErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: ERROR_STATUS[cause.code].trpc, message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(translateErrors);

const BEARER = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/;

/**
 * Requires a valid access token whose session still lives, of a user who still exists and is
 * active; narrows ctx.auth, ctx.user and ctx.access. All three are read per request, in one query,
 * so a logout, a disabled account or a role change takes effect on our own API at once, not when
 * the token expires.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const match = ctx.authorization ? BEARER.exec(ctx.authorization) : null;
  const claims: AccessClaims | null = match?.[1] ? await ctx.deps.tokens.verifySignature(match[1]) : null;
  const signedIn = claims?.sid ? await loadSignedIn(ctx.deps.database.db, claims.sub, claims.sid) : undefined;
  if (!claims?.sid || !signedIn?.user.isActive) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in required' });
  const { user, access } = signedIn;
  ctx.onAuthenticated?.(user.id);
  return next({ ctx: { auth: { userId: user.id, sid: claims.sid, claims }, user, access } });
});

export { z };

/**
 * Requires every named permission, read from the database on each request (with the user, by
 * authedProcedure), so a role change applies at the user's next call. A refusal is audited as
 * access_denied.
 */
export function requirePermission(...required: [Permission, ...Permission[]]) {
  return authedProcedure.use(async ({ ctx, path, next }) => {
    const { access } = ctx;
    const missing = required.filter((p) => !access.permissions.includes(p));
    if (missing.length > 0) {
      await ctx.deps.audit.record({
        type: 'access_denied',
        success: false,
        userId: ctx.user.id,
        actorId: ctx.user.id,
        reason: `missing ${missing.join(', ')}`,
        metadata: { procedure: path, required },
        ...ctx.meta,
      });
      throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have permission to do this' });
    }
    return next({ ctx: { access, actor: { userId: ctx.user.id, meta: ctx.meta } } });
  });
}
