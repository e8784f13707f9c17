import { SCOPES } from '../../../oidc/provider.ts';
import { CLIENT_GRANT_TYPES } from '../../../services/clients.ts';
import { clientView, createdClientView, successView } from '../../../common/outputs.ts';
import { requirePermission, router, z } from '../../init.ts';
import { boolOrText } from '../../../common/inputs.ts';

const uris = z.array(z.url('Must be an absolute URL').max(2000, 'Too long')).max(20).optional();
const name = z.string().trim().min(1).max(200);
const grantTypes = z.array(z.enum(CLIENT_GRANT_TYPES)).min(1).max(3);
const scopes = z.array(z.enum(SCOPES)).max(SCOPES.length).optional();
const clientId = z.string().min(1).max(200);
const pkceRequired = boolOrText.optional().meta({ description: 'False exempts a confidential client from PKCE (legacy relying parties); never a public one' });
const roles = z
  .array(z.string().min(1).max(50))
  .max(20)
  .optional()
  .meta({ description: 'Roles whose permissions its client_credentials tokens carry; you must hold their permissions' });
const tags = ['Clients'];

export const adminClientsRouter = router({
  list: requirePermission('clients:manage')
    .meta({ openapi: { method: 'GET', path: '/admin/clients', tags, summary: 'Every OAuth client', errorResponses: [401, 403] } })
    .output(z.array(clientView))
    .query(({ ctx }) => ctx.deps.clientAdmin.list()),

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
        name,
        grantTypes,
        redirectUris: uris,
        postLogoutRedirectUris: uris,
        public: boolOrText.optional(),
        scopes,
        roles,
        pkceRequired,
      }),
    )
    .output(createdClientView)
    .mutation(({ ctx, input }) => ctx.deps.clientAdmin.create(input, ctx.actor)),

  update: requirePermission('clients:manage')
    .meta({
      openapi: {
        method: 'PUT',
        path: '/admin/clients/{clientId}',
        tags,
        summary: 'Change an OAuth client',
        description: 'Only the fields given change. Whether a client is public, and its secret, cannot change.',
        errorResponses: [400, 401, 403, 404],
      },
    })
    .input(
      z.strictObject({
        clientId,
        name: name.optional(),
        grantTypes: grantTypes.optional(),
        redirectUris: uris,
        postLogoutRedirectUris: uris,
        scopes,
        roles,
        pkceRequired,
      }),
    )
    .output(clientView)
    .mutation(({ ctx, input: { clientId, ...changes } }) => ctx.deps.clientAdmin.update(clientId, changes, ctx.actor)),

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
    .input(z.strictObject({ clientId }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.clientAdmin.remove(input.clientId, ctx.actor)),
});
