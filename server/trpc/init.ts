// The one tRPC root. Routers use only the procedures exported here.
import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { z } from 'zod';
import { AppError, ERROR_STATUS } from '../errors.ts';
import type { Context } from './context.ts';
import { publicErrorOf } from './errors.ts';
import { FIRST_PARTY_CLIENT_ID } from '../oidc/provider.ts';
import type { Permission } from '../common/permissions.ts';

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

export { z };

/** Every named permission and, for a token of an app other than the first-party client, scopes naming
 *  them. A refusal, here or by the procedure, is audited as access_denied, once a minute per procedure. */
export function requirePermission(...required: [Permission, ...Permission[]]) {
  return authedProcedure.use(async ({ ctx, path, next }) => {
    const { access, user, auth } = ctx;
    const denied = (reason: string) => ctx.deps.accessDenials.record({ userId: user.id, procedure: path, reason, metadata: { required }, meta: ctx.meta });
    const missing = required.filter((p) => !access.permissions.includes(p));
    const scopes = auth.claims.client_id === FIRST_PARTY_CLIENT_ID ? null : (auth.claims.scope ?? '').split(' ');
    const ungranted = scopes ? required.filter((p) => !scopes.includes(p)) : [];
    if (missing.length > 0 || ungranted.length > 0) {
      await denied(missing.length > 0 ? `missing ${missing.join(', ')}` : `client ${auth.claims.client_id} not granted ${ungranted.join(', ')}`);
      throw new TRPCError({ code: 'FORBIDDEN', message: 'You do not have permission to do this' });
    }
    const result = await next({ ctx: { access, actor: { userId: user.id, permissions: access.permissions, meta: ctx.meta } } });
    const cause = result.ok ? undefined : result.error.cause;
    if (cause instanceof AppError && cause.code === 'FORBIDDEN') await denied(cause.message);
    return result;
  });
}
