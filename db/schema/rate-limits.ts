import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

// rate-limiter-flexible's RateLimiterDrizzle counters, one row per key, shared by every instance on
// the database. Keys are digests, never an email or IP in clear (server/services/rate-limits/).
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    points: integer('points').notNull().default(0),
    expire: timestamp('expire', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);
