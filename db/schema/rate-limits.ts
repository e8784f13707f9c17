import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

// The shared counters of rate-limiter-flexible's RateLimiterDrizzle, one row per limited key, so
// that several instances on one database add up their counts. Keys are digests, never an email or
// an IP in clear (server/services/rate-limits.ts).
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    points: integer('points').notNull().default(0),
    expire: timestamp('expire', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);
