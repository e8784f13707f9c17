import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { oauthClients } from './clients.ts';
import { roles } from './users.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// API resources (RFC 8707) registered by admins: the services behind Gatehouse. Gatehouse's own API is
// built in and not stored; its permissions are the catalogue in server/common/permissions.ts.
export const apiResources = pgTable('api_resources', {
  // An absolute URL: the audience of the resource's access tokens.
  identifier: text('identifier').primaryKey(),
  name: text('name').notNull(),
  // Seconds; null means ACCESS_TOKEN_TTL.
  accessTokenTtl: integer('access_token_ttl'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

// A permission belongs to one resource; its name is unique across all of them, so that a role's
// permission list names it without its resource.
export const apiPermissions = pgTable(
  'api_permissions',
  {
    name: text('name').primaryKey(),
    resource: text('resource')
      .notNull()
      .references(() => apiResources.identifier, { onDelete: 'cascade', onUpdate: 'cascade' }),
    description: text('description'),
  },
  (t) => [index('api_permissions_resource_idx').on(t.resource)],
);

// Roles of OAuth clients: what a client_credentials token may do.
export const oauthClientRoles = pgTable(
  'oauth_client_roles',
  {
    clientId: text('client_id')
      .notNull()
      .references(() => oauthClients.clientId, { onDelete: 'cascade' }),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.roleId] }), index('oauth_client_roles_role_id_idx').on(t.roleId)],
);

export type ApiResourceRow = typeof apiResources.$inferSelect;
export type ApiPermissionRow = typeof apiPermissions.$inferSelect;
