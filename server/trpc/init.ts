// The one tRPC root. Routers use only the procedures exported here.
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { z } from 'zod';
import { AppError, ERROR_STATUS } from '../errors.ts';
import type { Context } from './context.ts';
import { publicErrorOf } from './errors.ts';
import type { AccessClaims } from '../oidc/tokens.ts';
import { findUserById } from '../services/users.ts';
import { loadAccess, type Permission } from '../services/rbac.ts';

/**
 * Procedure metadata: `openapi` is the procedure's route on the REST mirror (trpc-to-openapi);
 * `created` makes a successful REST answer 201 rather than 200.
 */
export type Meta = OpenApiMeta<{ created?: true }>;

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // Never a stack trace on the wire, whatever NODE_ENV says.
    isDev: false,
    errorFormatter({ shape, error }) {
      const { stack: _stack, ...data } = shape.data;
      const { message, ...details } = publicErrorOf(error);
      // One shape for every error, so clients read fieldErrors and retryAfterSeconds without narrowing.
      return { ...shape, message, data: { ...data, ...details } };
    },
  });

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
 * active; narrows ctx.auth and ctx.user. Both are read per request, so a logout or a disabled
 * account takes effect on our own API at once, not when the token expires.
 */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const match = ctx.authorization ? BEARER.exec(ctx.authorization) : null;
  const claims: AccessClaims | null = match?.[1] ? await ctx.deps.tokens.verify(match[1]) : null;
  const user = claims?.sid ? await findUserById(ctx.deps.database.db, claims.sub) : undefined;
  if (!claims?.sid || !user?.isActive) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in required' });
  return next({ ctx: { auth: { userId: user.id, sid: claims.sid, claims }, user } });
});

export { z };

/**
 * Requires every named permission, read from the database on each request, so a role change
 * applies at the user's next call. A refusal is audited as access_denied.
 */
export function requirePermission(...required: [Permission, ...Permission[]]) {
  return authedProcedure.use(async ({ ctx, path, next }) => {
    const access = await loadAccess(ctx.deps.database.db, ctx.user.id);
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
