import { PERMISSION_NAME } from '../../../common/permissions.ts';
import { roleView, successView } from '../../../common/outputs.ts';
import { requirePermission, router, z } from '../../init.ts';
import { uuid } from '../../../common/inputs.ts';

const roleName = z.string().regex(/^[a-z][a-z0-9_-]{1,49}$/, 'Lower-case letters, digits, - and _; 2 to 50 characters');
const description = z.string().trim().max(500, 'Too long').nullable().optional();
const permissions = z
  .array(z.string().regex(PERMISSION_NAME, 'Not a permission name'))
  .max(500)
  .meta({ description: "Permissions of Gatehouse's API or of registered API resources" });
const tags = ['Roles'];

export const adminRolesRouter = router({
  list: requirePermission('roles:manage')
    .meta({ openapi: { method: 'GET', path: '/admin/roles', tags, summary: 'Every role, with its permissions and user count', errorResponses: [401, 403] } })
    .output(z.array(roleView))
    .query(({ ctx }) => ctx.deps.roleAdmin.list()),

  create: requirePermission('roles:manage')
    .meta({ openapi: { method: 'POST', path: '/admin/roles', tags, summary: 'Create a role', errorResponses: [400, 401, 403, 409] }, created: true })
    .input(z.strictObject({ name: roleName, description, permissions }))
    .output(roleView)
    .mutation(({ ctx, input }) => ctx.deps.roleAdmin.create(input, ctx.actor)),

  update: requirePermission('roles:manage')
    .meta({
      openapi: {
        method: 'PUT',
        path: '/admin/roles/{id}',
        tags,
        summary: 'Update a role',
        description: 'Built-in roles cannot be renamed, and `admin` always holds every permission (409).',
        errorResponses: [400, 401, 403, 404, 409],
      },
    })
    .input(z.strictObject({ id: uuid, name: roleName.optional(), description, permissions: permissions.optional() }))
    .output(roleView)
    .mutation(({ ctx, input }) => ctx.deps.roleAdmin.update(input, ctx.actor)),

  delete: requirePermission('roles:manage')
    .meta({
      openapi: { method: 'DELETE', path: '/admin/roles/{id}', tags, summary: 'Delete a role', description: 'Built-in roles cannot be deleted (409).', errorResponses: [400, 401, 403, 404, 409] },
    })
    .input(z.strictObject({ id: uuid }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.roleAdmin.remove(input.id, ctx.actor)),
});
