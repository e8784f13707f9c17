import { SCOPES } from '../../../oidc/provider.ts';
import { CLIENT_GRANT_TYPES } from '../../../services/clients.ts';
import { clientView, createdClientView, successView } from '../../../views.ts';
import { requirePermission, router, z } from '../../init.ts';

const uri = z.url('Must be an absolute URL').max(2000, 'Too long');

export const adminClientsRouter = router({
  list: requirePermission('clients:manage')
    .output(z.array(clientView))
    .query(({ ctx }) => ctx.deps.clientAdmin.list()),

  /** The secret of a confidential client is in this response only; it is stored as a digest. */
  create: requirePermission('clients:manage')
    .input(
      z.strictObject({
        name: z.string().trim().min(1).max(200),
        grantTypes: z.array(z.enum(CLIENT_GRANT_TYPES)).min(1).max(3),
        redirectUris: z.array(uri).max(20).optional(),
        postLogoutRedirectUris: z.array(uri).max(20).optional(),
        public: z.boolean().optional(),
        scopes: z.array(z.enum(SCOPES)).max(SCOPES.length).optional(),
      }),
    )
    .output(createdClientView)
    .mutation(({ ctx, input }) => ctx.deps.clientAdmin.create(input, ctx.actor)),

  delete: requirePermission('clients:manage')
    .input(z.strictObject({ clientId: z.string().min(1).max(200) }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.clientAdmin.remove(input.clientId, ctx.actor)),
});
