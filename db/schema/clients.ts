import { boolean, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

// OAuth clients of admin.clients and the CLI: `metadata` is their OpenID Connect client metadata;
// the secret is kept only as a SHA-256 digest, which server/oidc/provider.ts compares against.
export const oauthClients = pgTable('oauth_clients', {
  clientId: text('client_id').primaryKey(),
  name: text('name').notNull(),
  metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
  secretHash: text('secret_hash'),
  firstParty: boolean('first_party').notNull().default(false),
  createdBy: uuid('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export type OauthClientRow = typeof oauthClients.$inferSelect;
