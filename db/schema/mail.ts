import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// The transactional outbox: one row per mail to send, written in the transaction of the change that
// causes it. A row holds no secret: the token a mail carries is made when the mail is delivered.
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind').notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** The address, for mail not addressed to the user's current email (a reset asked for by address, an email change). */
    recipient: text('recipient'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<'pending' | 'sent' | 'failed' | 'dropped'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamptz('next_attempt_at').notNull().defaultNow(),
    /** A worker that claimed the row holds it until then; past it, another may claim it again. */
    lockedUntil: timestamptz('locked_until'),
    lastError: text('last_error'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    sentAt: timestamptz('sent_at'),
  },
  (t) => [index('mail_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`)],
);

// Single-use tokens mailed to a user (password reset, email verification, email change), stored
// only as SHA-256 digests.
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<'password_reset' | 'email_verification' | 'email_change'>().notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The address the token proves: the one verified, or the new one of an email change. */
    email: text('email').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    expiresAt: timestamptz('expires_at').notNull(),
    usedAt: timestamptz('used_at'),
  },
  (t) => [index('account_tokens_user_id_kind_idx').on(t.userId, t.kind), index('account_tokens_expires_at_idx').on(t.expiresAt)],
);

export type MailOutboxRow = typeof mailOutbox.$inferSelect;
export type AccountTokenRow = typeof accountTokens.$inferSelect;
