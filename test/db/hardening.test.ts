// The database as the last line: the audit trail is append-only for the service, whatever SQL
// reaches it through the service's own connection; and a database error in the log names what
// failed (its SQLSTATE code and constraint), never the values the statement carried, so a failed
// insert puts no bcrypt hash or email in a log.
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authEvents } from '../../db/schema/index.ts';
import { operator } from '../../server/services/rbac.ts';
import { newAccount, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
  const { user } = tokensOf(await gh.caller().auth.register(newAccount()));
  // The mail worker writes the verification mail's event after register returns: wait for it, so
  // no row arrives while a test counts.
  await vi.waitFor(async () => {
    const events = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, user.id));
    if (events.length < 2) throw new Error('the verification mail is not sent yet');
  });
});
afterAll(() => gh?.close());

const rows = async () => (await gh.deps.database.db.select({ n: count() }).from(authEvents))[0]!.n;

describe('auth_events', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, and keeps every row as written', async () => {
    const { db } = gh.deps.database;
    const before = await rows();
    const [first] = await db.select().from(authEvents).limit(1);
    expect(before).toBeGreaterThan(0);
    await expect(db.update(authEvents).set({ success: false, reason: 'rewritten' }).where(eq(authEvents.id, first!.id))).rejects.toThrow();
    await expect(db.delete(authEvents)).rejects.toThrow();
    await expect(db.execute(sql`truncate auth_events`)).rejects.toThrow();
    expect(await rows()).toBe(before);
    const [same] = await db.select().from(authEvents).where(eq(authEvents.id, first!.id));
    expect(same).toEqual(first);
  });

  it('still takes new rows, and deleting a user leaves their rows in place', async () => {
    const account = newAccount();
    const { user } = tokensOf(await gh.caller().auth.register(account));
    // The verification mail's own event, written by the mail worker, is not what this test counts.
    await expect.poll(async () => (await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, user.id))).length).toBe(2);
    const before = await rows();
    await gh.deps.userAdmin.remove(user.id, operator());
    expect(await rows()).toBe(before + 1);
    const kept = await gh.deps.database.db.select().from(authEvents).where(eq(authEvents.userId, user.id));
    expect(kept.map((e) => e.type).sort()).toEqual(['email_verification_sent', 'register', 'user_deleted']);
  });
});

describe('database errors in the log', () => {
  it('carry the code and the constraint, and none of the parameters', async () => {
    await gh.deps.database.db.execute(sql`alter table users add constraint users_refused_for_test check (false) not valid`);
    try {
      const account = newAccount('logged');
      const res = await trpcHttp(gh.url, 'auth.register', { ...account, name: 'Secret Name' });
      expect(res.status).toBe(500);
      expect(JSON.stringify(res.body)).not.toMatch(/users_refused_for_test|insert|\$2[aby]\$/);
      const errors = gh.logs.filter((line) => JSON.parse(line).level >= 50);
      expect(errors.length).toBeGreaterThan(0);
      const text = errors.join('\n');
      expect(text).toContain('23514');
      expect(text).toContain('users_refused_for_test');
      expect(text).not.toContain(account.email);
      expect(text).not.toContain('Secret Name');
      expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
      expect(text).not.toMatch(/insert into/i);
    } finally {
      await gh.deps.database.db.execute(sql`alter table users drop constraint users_refused_for_test`);
    }
  });
});
