// Where rate-limit counters live: Redis when REDIS_URL is set, else the database, so that instances
// share their counts; only an in-memory PGlite, a single throwaway process, counts in memory.
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { lt } from 'drizzle-orm';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from '../../../db/client.ts';
import { rateLimits } from '../../../db/schema/index.ts';

const CONNECT_WAIT_MS = 3000;

export type RateLimitStoreKind = 'redis' | 'database' | 'memory';

export interface CounterSpec {
  name: string;
  points: number;
  seconds: number;
}

export interface RateLimitStore {
  kind: RateLimitStoreKind;
  counter(spec: CounterSpec): RateLimiterAbstract;
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
    // Loaded only with REDIS_URL. No offline queue: while Redis is away a command fails at once, and the insurance limiter counts.
    const { Redis } = await import('ioredis');
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
        // The library's own expiry timer is off: expired rows go with the other purges (deps.ts).
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
