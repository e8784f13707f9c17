import { boolean, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

// One row per audit event. No foreign key to users: the trail outlives the accounts it describes.
export const authEvents = pgTable(
  'auth_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    type: text('type').notNull(),
    userId: uuid('user_id'),
    actorId: uuid('actor_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    success: boolean('success').notNull(),
    reason: text('reason'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // admin.audit.list pages by (created_at, id): each of its filters has an index ending in that
    // pair, so a page is one range scan. (type, ...) also serves admin.audit.suspicious.
    index('auth_events_created_at_id_idx').on(t.createdAt, t.id),
    index('auth_events_user_id_created_at_id_idx').on(t.userId, t.createdAt, t.id),
    index('auth_events_type_created_at_id_idx').on(t.type, t.createdAt, t.id),
    index('auth_events_ip_created_at_id_idx').on(t.ip, t.createdAt, t.id),
  ],
);

export type AuthEventRow = typeof authEvents.$inferSelect;
