// The PostgreSQL driver's pool after a burst. postgres-js 3.x kept its connections in queues that
// left a slot behind for every query served, and searched them all on every query; we patched it
// until 4.x replaced those queues. Timings belong to the bench; these tests count what is searched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

// The array methods whose cost is the length of the array they work on.
const searches = ['indexOf', 'lastIndexOf', 'includes', 'splice'] as const;

/** Runs `work`, returning the length of the longest array any code searched or spliced meanwhile. */
async function longestSearch(work: () => Promise<unknown>): Promise<number> {
  const originals = searches.map((name) => [name, Array.prototype[name]] as const);
  let longest = 0;
  for (const [name, original] of originals) {
    Object.defineProperty(Array.prototype, name, {
      configurable: true,
      writable: true,
      value: function (this: unknown[], ...args: unknown[]) {
        longest = Math.max(longest, this.length);
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      },
    });
  }
  try {
    await work();
  } finally {
    for (const [name, original] of originals) Object.defineProperty(Array.prototype, name, { configurable: true, writable: true, value: original });
  }
  return longest;
}

describe.skipIf(!usingPostgres)('the driver pool on PostgreSQL', () => {
  const max = 10; // openDatabase's pool size
  const queries = 6000;
  let target: TestDatabase;
  let database: Database;
  const callers = (n: number, each: number) =>
    Promise.all(Array.from({ length: n }, async () => { for (let i = 0; i < each; i++) await database.ping(); }));

  beforeAll(async () => {
    target = await createTestDatabase();
    database = await openDatabase({ driver: 'postgres', url: target.url });
    // A burst opens every connection of the pool.
    await callers(50, 20);
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it('searches nothing that grows with the queries served, with idle connections beside busy ones', async () => {
    const longest = await longestSearch(() => callers(3, queries / 3));
    expect(longest).toBeLessThan(queries / 3);
  });

  it('searches nothing that grows with the queries served, with every connection busy', async () => {
    const longest = await longestSearch(() => callers(3 * max, queries / (3 * max)));
    expect(longest).toBeLessThan(queries / 3);
  });
});
