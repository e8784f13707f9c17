import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// The provider's signing keys, shared by every instance. The private JWK is sealed with the
// key-encryption key, which never enters the database. A key is published from creation, signs from
// `activates_at` (after verifiers' JWKS caches have seen it) and stays published after `retired_at`
// until every token it signed has expired.
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  alg: text('alg').$type<'ES256' | 'RS256'>().notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateJwk: text('private_jwk').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  activatesAt: timestamptz('activates_at').notNull(),
  retiredAt: timestamptz('retired_at'),
});

// Secrets that sign cookies (Koa's and the provider's), sealed like the signing keys, with the same
// life: one verifies from creation, signs from `activates_at`, and verifies after `retired_at` for
// as long as a browser session signed with it lasts.
export const cookieSecrets = pgTable('cookie_secrets', {
  id: text('id').primaryKey(),
  secret: text('secret').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  activatesAt: timestamptz('activates_at').notNull(),
  retiredAt: timestamptz('retired_at'),
});
