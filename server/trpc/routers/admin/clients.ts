import { SCOPES } from '../../../oidc/provider.ts';
import { CLIENT_GRANT_TYPES } from '../../../services/clients.ts';
import { clientView, createdClientView, successView } from '../../../views.ts';
import { requirePermission, router, z } from '../../init.ts';
import { flag } from '../../inputs.ts';

const uri = z.url('Must be an absolute URL').max(2000, 'Too long');
const tags = ['Clients'];

export const adminClientsRouter = router({
  list: requirePermission('clients:manage')
    .meta({ openapi: { method: 'GET', path: '/admin/clients', tags, summary: 'Every OAuth client', errorResponses: [401, 403] } })
    .output(z.array(clientView))
    .query(({ ctx }) => ctx.deps.clientAdmin.list()),

  /** The secret of a confidential client is in this response only; it is stored as a digest. */
  create: requirePermission('clients:manage')
    .meta({
      openapi: {
        method: 'POST',
        path: '/admin/clients',
        tags,
        summary: 'Register an OAuth client',
        description: 'A confidential client\'s secret is in this response only.',
        errorResponses: [400, 401, 403],
      },
      created: true,
    })
    .input(
      z.strictObject({
        name: z.string().trim().min(1).max(200),
        grantTypes: z.array(z.enum(CLIENT_GRANT_TYPES)).min(1).max(3),
        redirectUris: z.array(uri).max(20).optional(),
        postLogoutRedirectUris: z.array(uri).max(20).optional(),
        public: flag.optional(),
        scopes: z.array(z.enum(SCOPES)).max(SCOPES.length).optional(),
      }),
    )
    .output(createdClientView)
    .mutation(({ ctx, input }) => ctx.deps.clientAdmin.create(input, ctx.actor)),

  delete: requirePermission('clients:manage')
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/admin/clients/{clientId}',
        tags,
        summary: 'Delete an OAuth client',
        description: 'Ends every session issued to it.',
        errorResponses: [400, 401, 403, 404],
      },
    })
    .input(z.strictObject({ clientId: z.string().min(1).max(200) }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.clientAdmin.remove(input.clientId, ctx.actor)),
});
