import { PERMISSION_NAME } from '../../../common/permissions.ts';
import { resourceView, successView } from '../../../common/outputs.ts';
import { intOrText } from '../../../common/inputs.ts';
import { requirePermission, router, z } from '../../init.ts';

const identifier = z
  .url('Must be an absolute URL')
  .max(2000, 'Too long')
  .refine((value) => !value.includes('#'), 'Must not have a fragment')
  .meta({ description: 'An absolute URL: the audience of the resource\'s access tokens' });
const name = z.string().trim().min(1, 'Required').max(200, 'Too long');
const permission = z.strictObject({
  name: z.string().regex(PERMISSION_NAME, 'Letters, digits and _ . : -; at most 64 characters, no spaces'),
  description: z.string().trim().max(500, 'Too long').nullable().optional().meta({ description: 'Shown on the consent page' }),
});
const permissions = z.array(permission).max(100, 'At most 100 permissions');
const accessTokenTtl = intOrText(60, 86_400).nullable().optional().meta({ description: 'Seconds; absent or null means ACCESS_TOKEN_TTL' });
const tags = ['API resources'];

export const adminResourcesRouter = router({
  list: requirePermission('resources:manage')
    .meta({ openapi: { method: 'GET', path: '/admin/resources', tags, summary: 'Every API resource, Gatehouse\'s own first', errorResponses: [401, 403] } })
    .output(z.array(resourceView))
    .query(({ ctx }) => ctx.deps.resourceAdmin.list()),

  create: requirePermission('resources:manage')
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/resources',
        tags,
        summary: 'Register an API resource with its permissions',
        description: 'Permission names are unique across resources (409).',
        errorResponses: [400, 401, 403, 409],
      },
      created: true,
    })
    .input(z.strictObject({ identifier, name, permissions, accessTokenTtl }))
    .output(resourceView)
    .mutation(({ ctx, input }) => ctx.deps.resourceAdmin.create(input, ctx.actor)),

  update: requirePermission('resources:manage')
    .meta({
      openapi: {
        method: 'PUT',
        path: '/admin/resources',
        tags,
        summary: 'Change an API resource',
        description: 'A new permission list replaces the old one, and a permission it drops leaves every role. Gatehouse\'s own API cannot be changed (409).',
        errorResponses: [400, 401, 403, 404, 409],
      },
    })
    .input(z.strictObject({ identifier, name: name.optional(), permissions: permissions.optional(), accessTokenTtl }))
    .output(resourceView)
    .mutation(({ ctx, input: { identifier, ...changes } }) => ctx.deps.resourceAdmin.update(identifier, changes, ctx.actor)),

  delete: requirePermission('resources:manage')
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/admin/resources',
        tags,
        summary: 'Delete an API resource',
        description: 'Its permissions leave every role. Gatehouse\'s own API cannot be deleted (409).',
        errorResponses: [400, 401, 403, 404, 409],
      },
    })
    .input(z.strictObject({ identifier }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.resourceAdmin.remove(input.identifier, ctx.actor)),
});
