// The rate-limit stores: the database one (RateLimiterDrizzle, on this run's driver) and Redis.
// Two store instances on one backend stand for two service instances: their counts must add up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
import { rateLimits } from '../../db/schema/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { like } from 'drizzle-orm';
import { createRateLimits, type RateLimits } from '../../server/services/rate-limits/limiter.ts';
import { limitRules } from '../../server/services/rate-limits/rules.ts';
import { openRateLimitStore, type RateLimitStore } from '../../server/services/rate-limits/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { randomKeyPrefix, REDIS_URL, redisAnswers } from '../helpers/redis.ts';

const meta = { ip: '203.0.113.9', userAgent: 'store-test' };
const rules = limitRules({ points: 3, seconds: 60 });
const noHooks = { onRejected: async () => {}, onStoreError: () => {} };
/** verify counts failures only: here, 3 per IP per minute. */
const verifyRules = limitRules({ points: 3, seconds: 60 }, { verify_ip: { points: 3 } });
const verifying = (limits: RateLimits, active: boolean) => limits.verify.run('', meta, async () => active, (result) => result);

/** Runs the shared-count checks on two stores opened on one backend. */
function sharedCountChecks(openWith: (keyPrefix: string) => Promise<RateLimitStore>) {
  /** Two instances of one deployment (sharing a key prefix of this test's own), closed afterwards. */
  const withTwoInstances = async (limitRulesOf: typeof rules, test: (limitsA: RateLimits, limitsB: RateLimits) => Promise<void>) => {
    const prefix = randomKeyPrefix();
    const [a, b] = await Promise.all([openWith(prefix), openWith(prefix)]);
    try {
      await test(createRateLimits(a, limitRulesOf, noHooks), createRateLimits(b, limitRulesOf, noHooks));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  };

  it('adds up failed logins counted by two instances', () =>
    withTwoInstances(rules, async (limitsA, limitsB) => {
      await limitsA.login.begin('shared@example.test', meta);
      await limitsB.login.begin('shared@example.test', meta);
      await limitsA.login.begin('shared@example.test', meta);
      await expect(limitsB.login.begin('shared@example.test', meta)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      // Another account from the same address is still welcome.
      await expect(limitsB.login.begin('other@example.test', meta)).resolves.toBeDefined();
    }));

  it('adds up failures of a failures-only limit across instances, and never refuses a success', () =>
    withTwoInstances(verifyRules, async (limitsA, limitsB) => {
      for (let i = 0; i < 5; i += 1) await expect(verifying(limitsA, true)).resolves.toBe(true);
      await verifying(limitsA, false);
      await verifying(limitsB, false);
      await expect(verifying(limitsA, false)).resolves.toBe(false);
      // A counted the third failure: it refuses the next without asking the store.
      await expect(verifying(limitsA, false)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: expect.any(Number) } });
      await expect(verifying(limitsA, true)).resolves.toBe(true);
      // B learns of the limit from the store at its next failure.
      await expect(verifying(limitsB, true)).resolves.toBe(true);
      await expect(verifying(limitsB, false)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      await expect(verifying(limitsB, true)).resolves.toBe(true);
    }));

  it('resets on success for every instance', () =>
    withTwoInstances(rules, async (limitsA, limitsB) => {
      await limitsA.login.begin('reset@example.test', meta);
      await limitsA.login.begin('reset@example.test', meta);
      const ok = await limitsB.login.begin('reset@example.test', meta);
      await ok.succeeded();
      for (let i = 0; i < 3; i += 1) await limitsA.login.begin('reset@example.test', meta);
      await expect(limitsB.login.begin('reset@example.test', meta)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: expect.any(Number) } });
    }));
}

describe('database store (RateLimiterDrizzle)', () => {
  let testDb: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = await openDatabase(testDb.url === 'pglite://memory' ? { driver: 'pglite', dataDir: null } : { driver: 'postgres', url: testDb.url });
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  sharedCountChecks((keyPrefix) => openRateLimitStore({ kind: 'database', db: database.db, keyPrefix }));

  it('keeps digests as keys, never the email or the address, and purges ended windows', async () => {
    const store = await openRateLimitStore({ kind: 'database', db: database.db, keyPrefix: 'purge-test' });
    await createRateLimits(store, rules, noHooks).login.begin('visible@example.test', meta);
    const rows = await database.db.select().from(rateLimits);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toMatch(/visible@example\.test|203\.0\.113\.9/);
    expect(await store.purge(new Date(Date.now() + 24 * 3600 * 1000))).toBeGreaterThanOrEqual(3);
    expect(await database.db.select().from(rateLimits)).toHaveLength(0);
  });

  it('writes nothing for a success of a failures-only limit', async () => {
    const store = await openRateLimitStore({ kind: 'database', db: database.db, keyPrefix: 'success-test' });
    const limits = createRateLimits(store, verifyRules, noHooks);
    const rowsOfThisTest = () => database.db.select().from(rateLimits).where(like(rateLimits.key, 'success-test:%'));
    for (let i = 0; i < 3; i += 1) await verifying(limits, true);
    expect(await rowsOfThisTest()).toHaveLength(0);
    await verifying(limits, false);
    expect(await rowsOfThisTest()).toHaveLength(1);
  });

  it('lifts the block of a failures-only limit when its window ends', async () => {
    const store = await openRateLimitStore({ kind: 'database', db: database.db, keyPrefix: 'window-test' });
    const limits = createRateLimits(store, limitRules({ points: 3, seconds: 60 }, { verify_ip: { points: 1, seconds: 1 } }), noHooks);
    await verifying(limits, false);
    await expect(verifying(limits, false)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 1 } });
    await sleep(1100);
    await expect(verifying(limits, false)).resolves.toBe(false);
  });
});

describe('Redis store', async () => {
  const up = await redisAnswers();
  describe.skipIf(!up)(`on ${REDIS_URL}${up ? '' : ' (skipped: Redis does not answer there)'}`, () => {
    sharedCountChecks((keyPrefix) => openRateLimitStore({ kind: 'redis', url: REDIS_URL, keyPrefix }));
  });
});
