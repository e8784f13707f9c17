// clients:* commands: OAuth clients in the database, as the admin API manages them.
import { z } from 'zod';
import { name as nameInput } from '../../common/inputs.ts';
import { AppError } from '../../errors.ts';
import { CLIENT_GRANT_TYPES, type ClientGrantType } from '../../services/clients.ts';
import { operator } from '../../services/rbac.ts';
import { checked, defineCommand, UsageError } from '../command.ts';
import { table } from '../output.ts';

export const clientsCreate = defineCommand({
  name: 'clients:create',
  summary: 'register an OAuth client; a confidential one gets its secret shown once',
  description: `
Registers an OAuth client and prints its id and, for a confidential client, its secret: shown this
once, stored only as a digest. --first-party skips the consent screen. --no-pkce-required exempts a
confidential client from PKCE, for relying parties that cannot send it; never a public one.`,
  options: {
    name: { type: 'string', arg: 'N', required: true, help: 'the name users see on the consent screen' },
    'grant-type': { type: 'string', arg: 'G', multiple: true, required: true, help: `${CLIENT_GRANT_TYPES.join(', ')}; may repeat` },
    'redirect-uri': { type: 'string', arg: 'U', multiple: true, help: 'a redirect URI (authorization_code); may repeat' },
    'post-logout-redirect-uri': { type: 'string', arg: 'U', multiple: true, help: 'where RP-initiated logout may return; may repeat' },
    scope: { type: 'string', arg: 'S', multiple: true, help: 'a scope the client may ask for; may repeat' },
    public: { type: 'boolean', help: 'a public client (a SPA, a native app): no secret, PKCE required' },
    'first-party': { type: 'boolean', help: 'one of your own apps: users are not asked to consent' },
    'pkce-required': { type: 'boolean', default: true, help: 'exempt this confidential client from PKCE' },
  },
  async run({ values, withDeps }) {
    const name = checked('name', nameInput, values.name);
    const grantTypes = values['grant-type'];
    const unknown = grantTypes.filter((g) => !(CLIENT_GRANT_TYPES as readonly string[]).includes(g));
    if (unknown.length > 0) throw new UsageError(`--grant-type must be one of ${CLIENT_GRANT_TYPES.join(', ')}`);
    return withDeps(async (deps) => {
      const created = await deps.clientAdmin.create(
        {
          name,
          grantTypes: grantTypes as ClientGrantType[],
          redirectUris: values['redirect-uri'],
          postLogoutRedirectUris: values['post-logout-redirect-uri'],
          scopes: values.scope,
          public: values.public ?? false,
          firstParty: values['first-party'] ?? false,
          pkceRequired: values['pkce-required'],
        },
        operator(),
      );
      const secret = created.clientSecret ? `\nclient_secret: ${created.clientSecret}\n(shown once: it is stored only as a digest)` : '';
      return { data: created, text: `client_id: ${created.clientId}${secret}` };
    });
  },
});

export const clientsList = defineCommand({
  name: 'clients:list',
  summary: 'list the OAuth clients in the database, newest first',
  description: `
Lists the OAuth clients registered through the CLI or the admin API, newest first; secrets are never
shown. Clients of CLIENTS_FILE are not listed. The JSON is the admin API's list of Client.`,
  options: {},
  async run({ withDeps }) {
    return withDeps(async (deps) => {
      const clients = await deps.clientAdmin.list();
      const rows = clients.map((c) => [c.clientId, c.name, c.public ? 'public' : 'confidential', c.grantTypes.join(','), c.firstParty ? 'yes' : 'no', c.pkceRequired ? 'yes' : 'no', c.createdAt.slice(0, 16).replace('T', ' ')]);
      const listed = rows.length === 0 ? 'no clients' : table(['CLIENT ID', 'NAME', 'TYPE', 'GRANTS', 'FIRST PARTY', 'PKCE', 'CREATED'], rows);
      return { data: clients, text: `${listed}\n${clients.length} clients` };
    });
  },
});

export const clientsDelete = defineCommand({
  name: 'clients:delete',
  summary: 'delete an OAuth client and end every session issued to it',
  description: `
Deletes an OAuth client, as admin.clients.delete does: its secret stops working and every session
issued to it ends, with its tokens.`,
  options: {
    'client-id': { type: 'string', arg: 'ID', required: true, help: 'the client_id, as clients:list shows it' },
  },
  async run({ values, withDeps }) {
    const clientId = checked('client-id', z.string().trim().min(1, 'Required').max(200, 'Too long'), values['client-id']);
    return withDeps(async (deps) => {
      await deps.clientAdmin.remove(clientId, operator()).catch((error: unknown) => {
        throw error instanceof AppError && error.code === 'NOT_FOUND' ? new AppError('NOT_FOUND', `no client with the id ${clientId}`) : error;
      });
      return { data: { clientId, deleted: true }, text: `deleted client ${clientId}: every session issued to it ended` };
    });
  },
});
