import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// Recovery codes of a user's second factor, as SHA-256 digests; each works once.
export const mfaRecoveryCodes = pgTable(
  'mfa_recovery_codes',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeDigest: text('code_digest').notNull(),
    usedAt: timestamptz('used_at'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.codeDigest] })],
);

// The step between a password and tokens: a challenge to answer with a code (`verify`), an
// enrolment the policy requires (`enroll`), or an enrolment done on the hosted page whose recovery
// codes are on screen (`enrolled`). Stored as the SHA-256 digest of the token handed out.
export const mfaChallenges = pgTable(
  'mfa_challenges',
  {
    id: text('id').primaryKey(),
    purpose: text('purpose').$type<'verify' | 'enroll' | 'enrolled'>().notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The API resource the tokens will be for (auth.login's `resource`). */
    resource: text('resource'),
    /** The hosted sign-in it belongs to, if any: it is answered there only. */
    interactionUid: text('interaction_uid'),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('mfa_challenges_user_id_idx').on(t.userId), index('mfa_challenges_expires_at_idx').on(t.expiresAt)],
);

export type MfaChallengeRow = typeof mfaChallenges.$inferSelect;
