// Where rate-limit counters live. One store serves every limit; the choice follows the deployment:
// Redis when REDIS_URL is set, otherwise the database (PostgreSQL, or a PGlite directory) through
// Drizzle, so that several instances share their counts either way. Only an in-memory PGlite, a
// single throwaway process, keeps them in memory.
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { lt } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from '../../../db/client.ts';
import { rateLimits } from '../../../db/schema/index.ts';

const CONNECT_WAIT_MS = 3000;

export type RateLimitStoreKind = 'redis' | 'database' | 'memory';

export interface CounterSpec {
  /** Prefix of every key of this counter, e.g. `login_ip`. */
  name: string;
  points: number;
  seconds: number;
}

export interface RateLimitStore {
  kind: RateLimitStoreKind;
  counter(spec: CounterSpec): RateLimiterAbstract;
  /** Deletes counters whose window ended (the database store; Redis expires keys itself). */
  purge(now?: Date): Promise<number>;
  close(): Promise<void>;
}

export type RateLimitStoreTarget =
  | { kind: 'redis'; url: string; keyPrefix: string }
  | { kind: 'database'; db: Db; keyPrefix: string }
  | { kind: 'memory'; keyPrefix: string };

/** Opens the store. Redis gets a moment to connect; until it does, each instance counts alone. */
export async function openRateLimitStore(target: RateLimitStoreTarget): Promise<RateLimitStore> {
  const keyPrefix = (name: string) => `${target.keyPrefix}:${name}`;

  if (target.kind === 'redis') {
    // No offline queue: while Redis is unreachable a command fails at once instead of piling up,
    // and the per-process insurance limiter below counts in the meantime.
    const client = new Redis(target.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    client.on('error', () => {}); // reconnects by itself; failed commands fall back to insurance
    await Promise.race([once(client, 'ready'), setTimeout(CONNECT_WAIT_MS, undefined, { ref: false })]);
    return {
      kind: 'redis',
      counter: ({ name, points, seconds }) =>
        new RateLimiterRedis({
          storeClient: client,
          keyPrefix: keyPrefix(name),
          points,
          duration: seconds,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix: keyPrefix(name), points, duration: seconds }),
        }),
      purge: async () => 0,
      close: async () => {
        await client.quit().catch(() => client.disconnect());
      },
    };
  }

  if (target.kind === 'database') {
    const { db } = target;
    return {
      kind: 'database',
      counter: ({ name, points, seconds }) =>
        // clearExpiredByTimeout off: the library would start its own timer per counter; expired
        // rows are purged with the other expired rows instead (deps.ts).
        new RateLimiterDrizzle({ storeClient: db, schema: rateLimits, keyPrefix: keyPrefix(name), points, duration: seconds, clearExpiredByTimeout: false }),
      async purge(now = new Date()) {
        const gone = await db.delete(rateLimits).where(lt(rateLimits.expire, now)).returning({ key: rateLimits.key });
        return gone.length;
      },
      close: async () => {},
    };
  }

  return {
    kind: 'memory',
    counter: ({ name, points, seconds }) => new RateLimiterMemory({ keyPrefix: keyPrefix(name), points, duration: seconds }),
    purge: async () => 0,
    close: async () => {},
  };
}
