import { PERMISSIONS } from '../../../services/rbac.ts';
import { roleView, successView } from '../../../views.ts';
import { requirePermission, router, z } from '../../init.ts';
import { uuid } from '../../inputs.ts';

const roleName = z.string().regex(/^[a-z][a-z0-9_-]{1,49}$/, 'Lower-case letters, digits, - and _; 2 to 50 characters');
const description = z.string().trim().max(500, 'Too long').nullable().optional();
const permissions = z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length * 2);

export const adminRolesRouter = router({
  list: requirePermission('roles:manage')
    .output(z.array(roleView))
    .query(({ ctx }) => ctx.deps.roleAdmin.list()),

  create: requirePermission('roles:manage')
    .input(z.strictObject({ name: roleName, description, permissions }))
    .output(roleView)
    .mutation(({ ctx, input }) => ctx.deps.roleAdmin.create(input, ctx.actor)),

  update: requirePermission('roles:manage')
    .input(z.strictObject({ id: uuid, name: roleName.optional(), description, permissions: permissions.optional() }))
    .output(roleView)
    .mutation(({ ctx, input }) => ctx.deps.roleAdmin.update(input, ctx.actor)),

  delete: requirePermission('roles:manage')
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.roleAdmin.remove(input.id, ctx.actor)),
});
