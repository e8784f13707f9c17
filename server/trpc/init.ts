// The one tRPC root. Routers use only the procedures exported here.
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { z } from 'zod';
import { AppError, ERROR_STATUS } from '../errors.ts';
import type { Context } from './context.ts';
import { publicErrorOf } from './errors.ts';
import { FIRST_PARTY_CLIENT_ID, type Permission } from '../common/permissions.ts';

/** `openapi`: the procedure's REST route (trpc-to-openapi); `created`: a REST success answers 201. */
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
function translated<R extends { ok: true } | { ok: false; error: TRPCError }>(result: R): R {
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: ERROR_STATUS[cause.code].trpc, message: cause.message, cause });
  }
  return result;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(async ({ next }) => translated(await next()));

// The scheme is case-insensitive (RFC 9110 section 11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*)$/i;

/** The token of an `Authorization: Bearer` header, unchecked. */
export function bearerToken(ctx: Context): string | undefined {
  return (ctx.authorization ? BEARER.exec(ctx.authorization) : null)?.[1];
}

/** The caller's bearer token, if it is a valid token of a live session of an active user; else null. */
export async function signedInCaller(ctx: Context) {
  const token = bearerToken(ctx);
  return token ? ctx.deps.auth.bearer(token) : null;
}

/** A valid token of a live session of an active user, all read per request: a logout or role change applies at once. */
export const authedProcedure = t.procedure.use(async ({ ctx, next }) => {
  const bearer = await signedInCaller(ctx);
  if (!bearer) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in required' });
  const { claims, user, access } = bearer;
  ctx.onAuthenticated?.(user.id);
  return translated(await next({ ctx: { auth: { userId: user.id, sid: claims.sid, claims }, user, access } }));
});

/**
 * A signed-in user, or one whose sign-in waits for the second factor MFA_REQUIRED_ROLES demands,
 * with the enrolment token of that sign-in: good for enrolling and nothing else.
 */
export const enrollingProcedure = t.procedure.use(async ({ ctx, next }) => {
  const token = bearerToken(ctx);
  const bearer = token ? await ctx.deps.auth.bearer(token) : null;
  const enrolling = token && !bearer ? await ctx.deps.mfa.enrollment(token) : null;
  const user = bearer?.user ?? enrolling?.user;
  if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in required' });
  ctx.onAuthenticated?.(user.id);
  return translated(await next({ ctx: { user, enrollmentToken: enrolling ? token! : null } }));
});

export { z };

/**
 * Every named permission, held now. The caller is a signed-in user (a token of an app other than the
 * first-party client also needs scopes naming the permissions) or a client acting on its own with a
 * client_credentials token, whose roles must grant them. A refusal, here or by the procedure, is
 * audited as access_denied, once a minute per procedure.
 */
export function requirePermission(...required: [Permission, ...Permission[]]) {
  return t.procedure.use(async ({ ctx, path, next }) => {
    const token = bearerToken(ctx);
    const user = token ? await ctx.deps.auth.bearer(token) : null;
    const machine = token && !user ? await ctx.deps.auth.machine(token) : null;
    if (!user && !machine) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in required' });
    if (user) ctx.onAuthenticated?.(user.user.id);
    const meta = machine ? { ...ctx.meta, actorClientId: machine.clientId } : ctx.meta;
    const denied = (reason: string) => ctx.deps.accessDenials.record({ userId: user?.user.id ?? null, procedure: path, reason, metadata: { required }, meta });

    const held: readonly string[] = user ? user.access.permissions : machine!.permissions;
    const missing = required.filter((p) => !held.includes(p));
    const scopes = !user || user.claims.client_id === FIRST_PARTY_CLIENT_ID ? null : (user.claims.scope ?? '').split(' ');
    const ungranted = scopes ? required.filter((p) => !scopes.includes(p)) : [];
    if (missing.length > 0 || ungranted.length > 0) {
      await denied(missing.length > 0 ? `missing ${missing.join(', ')}` : `client ${user!.claims.client_id} not granted ${ungranted.join(', ')}`);
      throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have permission to do this' });
    }
    // A user hands out what their roles grant on any resource; a client only what it holds here.
    const actor = user ? { userId: user.user.id, permissions: user.access.granted, meta } : { userId: null, permissions: machine!.permissions, meta };
    const result = await next({ ctx: { actor } });
    const cause = result.ok ? undefined : result.error.cause;
    if (cause instanceof AppError && cause.code === 'FORBIDDEN') await denied(cause.message);
    return translated(result);
  });
}
