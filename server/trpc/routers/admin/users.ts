import { successView, userPageView, userView } from '../../../views.ts';
import { requirePermission, router, z } from '../../init.ts';
import { email, name, password, uuid } from '../../inputs.ts';

const roleName = z.string().min(1).max(50);

export const adminUsersRouter = router({
  list: requirePermission('users:read')
    .input(
      z
        .strictObject({
          search: z.string().trim().max(200, 'Too long').optional(),
          role: roleName.optional(),
          isActive: z.boolean().optional(),
          cursor: z.string().max(200).optional(),
          limit: z.number().int().min(1).max(100).optional(),
        })
        .optional(),
    )
    .output(userPageView)
    .query(({ ctx, input }) => ctx.deps.userAdmin.list(input ?? {})),

  get: requirePermission('users:read')
    .input(z.strictObject({ id: uuid }))
    .output(userView)
    .query(({ ctx, input }) => ctx.deps.userAdmin.get(input.id)),

  create: requirePermission('users:write')
    .input(z.strictObject({ email, password, name: name.optional(), roles: z.array(roleName).max(20).optional() }))
    .output(userView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.create(input, ctx.actor)),

  update: requirePermission('users:write')
    .input(z.strictObject({ id: uuid, name: name.nullable().optional(), isActive: z.boolean().optional(), roles: z.array(roleName).max(20).optional() }))
    .output(userView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.update(input, ctx.actor)),

  delete: requirePermission('users:delete')
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.remove(input.id, ctx.actor)),

  revokeSessions: requirePermission('users:write')
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.userAdmin.revokeSessions(input.id, ctx.actor)),
});
