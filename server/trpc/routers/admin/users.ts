import { successView, userPageView, userView } from '../../../common/outputs.ts';
import { requirePermission, router, z } from '../../init.ts';
import { cursorInput } from '../../../common/cursor.ts';
import { boolOrText, email, intOrText, name, password, uuid } from '../../../common/inputs.ts';

const roleName = z.string().min(1).max(50);
const tags = ['Users'];

export const adminUsersRouter = router({
  list: requirePermission('users:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/users',
        tags,
        summary: 'Search users',
        description: 'Newest first. `search` matches email and name; pass `nextCursor` as `cursor` for the next page.',
        errorResponses: [400, 401, 403],
      },
    })
    .input(
      z
        .strictObject({
          search: z.string().trim().max(200, 'Too long').optional(),
          role: roleName.optional(),
          isActive: boolOrText.optional(),
          cursor: cursorInput.optional(),
          limit: intOrText(1, 100).optional(),
        })
        .optional(),
    )
    .output(userPageView)
    .query(({ ctx, input }) => ctx.deps.userAdmin.list(input ?? {})),

  get: requirePermission('users:read')
    .meta({ openapi: { method: 'GET', path: '/users/{id}', tags, summary: 'One user', errorResponses: [400, 401, 403, 404] } })
    .input(z.strictObject({ id: uuid }))
    .output(userView)
    .query(({ ctx, input }) => ctx.deps.userAdmin.get(input.id)),

  create: requirePermission('users:write')
    .meta({
      openapi: { method: 'POST', path: '/users', tags, summary: 'Create a user', description: 'Roles default to `user`.', errorResponses: [400, 401, 403, 409] },
      created: true,
    })
    .input(z.strictObject({ email, password, name: name.optional(), roles: z.array(roleName).max(20).optional() }))
    .output(userView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.create(input, ctx.actor)),

  update: requirePermission('users:write')
    .meta({
      openapi: {
        method: 'PUT',
        path: '/users/{id}',
        tags,
        summary: 'Update a user',
        description:
          'Disabling a user ends every session of theirs. A new email is unverified unless `emailVerified` is given. The last active admin cannot be disabled or lose the admin role (409).',
        errorResponses: [400, 401, 403, 404, 409],
      },
    })
    .input(
      z.strictObject({
        id: uuid,
        name: name.nullable().optional(),
        email: email.optional(),
        emailVerified: boolOrText.optional(),
        isActive: boolOrText.optional(),
        roles: z.array(roleName).max(20).optional(),
      }),
    )
    .output(userView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.update(input, ctx.actor)),

  delete: requirePermission('users:delete')
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/users/{id}',
        tags,
        summary: 'Delete a user',
        description: 'Ends every session; the email can be registered again. The last active admin cannot be deleted (409).',
        errorResponses: [400, 401, 403, 404, 409],
      },
    })
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.remove(input.id, ctx.actor)),

  revokeSessions: requirePermission('users:write')
    .meta({ openapi: { method: 'DELETE', path: '/users/{id}/sessions', tags, summary: 'End every session of a user', errorResponses: [400, 401, 403, 404] } })
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.revokeSessions(input.id, ctx.actor)),

  sendPasswordReset: requirePermission('users:write')
    .meta({ openapi: { method: 'POST', path: '/users/{id}/password-reset', tags, summary: "Mail a password-reset link to the user's address", errorResponses: [400, 401, 403, 404] } })
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.recovery.sendPasswordReset(input.id, ctx.actor)),

  resetMfa: requirePermission('users:write')
    .meta({
      openapi: {
        method: 'POST',
        path: '/users/{id}/mfa/reset',
        tags,
        summary: "Clear a user's second factor",
        description: 'For a user who lost the authenticator app and the recovery codes. Only an actor holding every permission of the user may.',
        errorResponses: [400, 401, 403, 404],
      },
    })
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.mfa.reset(input.id, ctx.actor)),
});
