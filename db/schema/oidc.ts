import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// The oidc-provider store: one row per model instance (Session, Grant, RefreshToken, ...).
// Every identifier column holds a SHA-256 digest, never the value a client presents.
export const oidcPayloads = pgTable(
  'oidc_payloads',
  {
    model: text('model').notNull(),
    id: text('id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    grantId: text('grant_id'),
    uid: text('uid'),
    userCode: text('user_code'),
    accountId: text('account_id'),
    expiresAt: timestamptz('expires_at'),
    consumedAt: timestamptz('consumed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.model, t.id] }),
    index('oidc_payloads_grant_id_idx').on(t.grantId).where(sql`${t.grantId} is not null`),
    index('oidc_payloads_uid_idx').on(t.model, t.uid).where(sql`${t.uid} is not null`),
    index('oidc_payloads_user_code_idx').on(t.model, t.userCode).where(sql`${t.userCode} is not null`),
    index('oidc_payloads_account_id_idx').on(t.accountId).where(sql`${t.accountId} is not null`),
    index('oidc_payloads_expires_at_idx').on(t.expiresAt),
  ],
);

// What the provider's Grant does not hold about a sign-in session: where it came from and when it
// was last used. The id is the digest of the grant id, the same value oidc_payloads keys it by.
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    clientId: text('client_id').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    lastUsedAt: timestamptz('last_used_at').notNull().defaultNow(),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [index('sessions_user_id_idx').on(t.userId, t.createdAt), index('sessions_expires_at_idx').on(t.expiresAt)],
);

export type OidcPayloadRow = typeof oidcPayloads.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
