// The PostgreSQL driver's pool queues, as patched by db/patches/postgres+3.4.9.patch. Unpatched,
// a queue that is not emptied through shift() keeps a slot for everything it ever held, and the
// pool searches those slots on every query: a service that once saw a burst got slower with every
// query it served after it. Timings belong to the bench; these tests count what the pool searches.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.ts';
// The module the driver's ESM entry imports (postgres/src/index.js); the package exports and types
// only its entry.
// @ts-expect-error TS7016: no declaration file; typed as DriverQueue below
import Queue from '../../node_modules/postgres/src/queue.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

type DriverQueue<T> = { readonly length: number; push(x: T): T; shift(): T | undefined; remove(x: T): T | null };
const newQueue = Queue as <T>(initial?: T[]) => DriverQueue<T>;

/** Runs `work`, returning the length of the longest array searched with indexOf for a value `pick` accepts. */
async function longestSearch(pick: (value: unknown) => boolean, work: () => unknown): Promise<number> {
  const indexOf = Array.prototype.indexOf;
  let longest = 0;
  Array.prototype.indexOf = function (this: unknown[], ...args: Parameters<typeof indexOf>) {
    if (pick(args[0])) longest = Math.max(longest, this.length);
    return indexOf.apply(this, args);
  };
  try {
    await work();
  } finally {
    Array.prototype.indexOf = indexOf;
  }
  return longest;
}

describe('the driver queue', () => {
  it('behaves as a FIFO list with removal, whatever the sequence of operations', () => {
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('push' as const) }), weight: 2 },
      { arbitrary: fc.record({ kind: fc.constant('shift' as const) }), weight: 2 },
      { arbitrary: fc.record({ kind: fc.constant('remove' as const), which: fc.nat() }), weight: 1 },
    );
    fc.assert(
      // Long runs from a queue that already holds some elements, so that it goes thousands of
      // shifts without emptying and compacts (every 1024 shifts at most) along the way.
      fc.property(fc.nat({ max: 300 }), fc.array(op, { minLength: 2000, maxLength: 8000 }), (initial, ops) => {
        let next = 0;
        const model = Array.from({ length: initial }, () => ({ n: next++ }));
        const queue = newQueue(model);
        for (const o of ops) {
          if (o.kind === 'push') {
            const x = { n: next++ };
            queue.push(x);
            model.push(x);
          } else if (o.kind === 'shift') {
            if (model.length === 0) continue; // the pool never shifts an empty queue
            expect(queue.shift()).toBe(model.shift());
          } else {
            // Sometimes an element no longer in the queue, as when the pool moves a connection it shifted.
            const x = o.which % 3 === 0 || model.length === 0 ? { n: -1 } : model[o.which % model.length]!;
            const at = model.indexOf(x);
            if (at >= 0) model.splice(at, 1);
            expect(queue.remove(x)).toBe(at >= 0 ? x : null);
          }
          expect(queue.length).toBe(model.length);
        }
        while (model.length > 0) expect(queue.shift()).toBe(model.shift());
        expect(queue.length).toBe(0);
      }),
      // A failure is reported as found: shrinking runs this long would take minutes.
      { numRuns: 40, endOnFailure: true },
    );
  });

  it('searches only what it holds when its connections take turns without it ever emptying', async () => {
    // The pool's own sequence for a query on an idle connection: shift it from the idle queue,
    // then move it to the busy one, which first removes it from the queue it came from.
    const connections = Array.from({ length: 4 }, (_, n) => ({ n }));
    const idle = newQueue(connections);
    const longest = await longestSearch(
      (x) => connections.includes(x as { n: number }),
      () => {
        for (let i = 0; i < 50_000; i++) {
          const c = idle.shift()!;
          idle.remove(c);
          idle.push(c);
        }
      },
    );
    expect(idle.length).toBe(4);
    expect(longest).toBeLessThan(2048);
  });
});

describe.skipIf(!usingPostgres)('the driver pool on PostgreSQL', () => {
  let target: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    target = await createTestDatabase();
    database = await openDatabase({ driver: 'postgres', url: target.url });
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it('does not search longer queues the more queries it has served after a burst', async () => {
    const query = () => database.ping();
    const callers = (n: number, each: number) => Promise.all(Array.from({ length: n }, async () => { for (let i = 0; i < each; i++) await query(); }));
    // A postgres-js connection: what the pool moves between its queues.
    const isConnection = (x: unknown) => typeof x === 'object' && x !== null && 'queue' in x && typeof (x as { execute?: unknown }).execute === 'function';
    // A burst opens every connection of the pool; then a few callers keep some of them busy, the
    // rest idle, so the idle queue is never emptied.
    await callers(50, 20);
    const queries = 6000;
    const longest = await longestSearch(isConnection, () => callers(3, queries / 3));
    expect(longest).toBeGreaterThan(0); // the pool was observed searching its queues
    expect(longest).toBeLessThan(queries / 3);
  });
});
