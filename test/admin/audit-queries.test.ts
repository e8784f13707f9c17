// The audit read side (admin.audit.list / admin.audit.suspicious), on this run's driver; the
// EXPLAIN checks need PostgreSQL's planner and run only there.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { openDatabase, type Database } from '../../db/client.ts';
import { authEvents } from '../../db/schema/index.ts';
import { auditListInput, auditListQuery, auditSuspiciousInput, listAuditEvents, suspiciousActivity, suspiciousQueries } from '../../server/services/audit-queries.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

let testDb: TestDatabase;
let database: Database;
const userA = randomUUID();
const userB = randomUUID();

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase(testDb.url === 'pglite://memory' ? { driver: 'pglite', dataDir: null } : { driver: 'postgres', url: testDb.url });
  const at = (iso: string) => sql`${iso}::timestamptz`;
  // Rows one microsecond apart and rows with the same instant: pages must neither skip nor repeat.
  await database.db.insert(authEvents).values([
    { type: 'login', success: true, userId: userA, ip: '10.0.0.1', createdAt: at('2030-01-01T00:00:00.000100Z') as never },
    { type: 'login_failed', success: false, userId: userA, ip: '10.0.0.2', reason: 'wrong_password', createdAt: at('2030-01-01T00:00:00.000101Z') as never },
    { type: 'login_failed', success: false, userId: userA, ip: '10.0.0.2', reason: 'wrong_password', createdAt: at('2030-01-01T00:00:00.000101Z') as never },
    { type: 'login_failed', success: false, userId: userA, ip: '10.0.0.2', reason: 'wrong_password', createdAt: at('2030-01-01T00:00:00.000101Z') as never },
    { type: 'refresh', success: true, userId: userB, ip: '10.0.0.1', createdAt: at('2030-01-01T00:00:00.000102Z') as never },
    { type: 'logout', success: true, userId: userB, ip: '10.0.0.3', createdAt: at('2030-01-01T00:00:00.999999Z') as never },
    { type: 'user_updated', success: true, userId: userB, actorId: userA, ip: '10.0.0.3', metadata: { fields: ['name'] }, createdAt: at('2030-01-02T00:00:00Z') as never },
  ]);
});
afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

const list = (input: Record<string, unknown>) => listAuditEvents(database.db, auditListInput.parse(input));
const inFuture = { from: '2030-01-01T00:00:00Z' };

describe('listAuditEvents', () => {
  it('returns newest first with ISO timestamps and every column of the contract', async () => {
    const { items, nextCursor } = await list(inFuture);
    expect(items).toHaveLength(7);
    expect(nextCursor).toBeNull();
    expect(items[0]).toMatchObject({ type: 'user_updated', userId: userB, actorId: userA, success: true, metadata: { fields: ['name'] }, createdAt: '2030-01-02T00:00:00.000Z' });
    expect(Object.keys(items[0]!).sort()).toEqual(['actorId', 'createdAt', 'id', 'ip', 'metadata', 'reason', 'success', 'type', 'userAgent', 'userId']);
    const times = items.map((i) => i.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('walks every row exactly once through the cursor, even within one microsecond', async () => {
    const all = (await list(inFuture)).items.map((i) => i.id);
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await list({ ...inFuture, limit, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual(all);
    }
  });

  it('filters by user, type, success, ip and time range, and combines them', async () => {
    expect((await list({ ...inFuture, userId: userA })).items).toHaveLength(4);
    expect((await list({ ...inFuture, type: 'login_failed' })).items.every((i) => i.type === 'login_failed')).toBe(true);
    expect((await list({ ...inFuture, success: false })).items).toHaveLength(3);
    expect((await list({ ...inFuture, ip: '10.0.0.1' })).items.map((i) => i.type).sort()).toEqual(['login', 'refresh']);
    expect((await list({ from: '2030-01-01T00:00:00.5Z', to: '2030-01-02T00:00:00Z' })).items.map((i) => i.type)).toEqual(['logout']);
    expect((await list({ ...inFuture, userId: userB, success: true, ip: '10.0.0.3' })).items).toHaveLength(2);
    const page = await list({ ...inFuture, userId: userA, limit: 2 });
    const next = await list({ ...inFuture, userId: userA, limit: 2, cursor: page.nextCursor });
    expect([...page.items, ...next.items].every((i) => i.userId === userA)).toBe(true);
    expect(next.nextCursor).toBeNull();
  });

  it('refuses bad input with field errors: cursors it did not make, limits out of range, unknown fields', () => {
    for (const [input, field] of [
      [{ cursor: 'garbage' }, 'cursor'],
      [{ cursor: Buffer.from(`2030-01-01T00:00:00.000000Z|'; drop table users; --`).toString('base64url') }, 'cursor'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 101 }, 'limit'],
      [{ type: 'nope' }, 'type'],
      [{ from: 'yesterday' }, 'from'],
      [{ userId: 'not-a-uuid' }, 'userId'],
      [{ roles: ['admin'] }, ''],
    ] as const) {
      const parsed = auditListInput.safeParse(input);
      expect(parsed.success, JSON.stringify(input)).toBe(false);
      expect((parsed.error as ZodError).issues.map((i) => i.path.join('.')).join(','), JSON.stringify(input)).toContain(field);
    }
  });
});

describe('suspiciousActivity', () => {
  it('groups failed logins in the window by IP and by account, above the threshold', async () => {
    const now = new Date();
    const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
    const failed = (ip: string, email: string, userId: string | null, at: Date) => ({ type: 'login_failed', success: false, ip, userId, metadata: { email }, createdAt: at });
    await database.db.insert(authEvents).values([
      // One address spraying three accounts, one of them unknown.
      failed('192.0.2.1', 'a@example.test', userA, minutesAgo(1)),
      failed('192.0.2.1', 'b@example.test', userB, minutesAgo(2)),
      failed('192.0.2.1', 'ghost@example.test', null, minutesAgo(3)),
      failed('192.0.2.1', 'a@example.test', userA, minutesAgo(4)),
      // Many addresses against one account.
      failed('192.0.2.2', 'a@example.test', userA, minutesAgo(5)),
      failed('192.0.2.3', 'a@example.test', userA, minutesAgo(6)),
      // Outside the window, and a success: neither counts.
      failed('192.0.2.1', 'a@example.test', userA, minutesAgo(120)),
      { type: 'login', success: true, ip: '192.0.2.1', userId: userA, createdAt: minutesAgo(1) },
    ]);
    const report = await suspiciousActivity(database.db, auditSuspiciousInput.parse({ windowMinutes: 60, threshold: 3 }), now);
    expect(report.ips).toEqual([{ ip: '192.0.2.1', failures: 4, accounts: 3, lastAt: minutesAgo(1).toISOString() }]);
    expect(report.accounts).toEqual([{ email: 'a@example.test', userId: userA, failures: 4, ips: 3, lastAt: minutesAgo(1).toISOString() }]);
    expect(report).toMatchObject({ windowMinutes: 60, threshold: 3, since: minutesAgo(60).toISOString() });

    const wider = await suspiciousActivity(database.db, auditSuspiciousInput.parse({ windowMinutes: 180, threshold: 1 }), now);
    expect(wider.ips.map((r) => r.ip)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect(wider.ips[0]!.failures).toBe(5);
    expect(wider.accounts.find((r) => r.email === 'ghost@example.test')).toMatchObject({ userId: null, failures: 1 });
  });

  it('has defaults and bounds', () => {
    expect(auditSuspiciousInput.parse({})).toEqual({ windowMinutes: 60, threshold: 10 });
    expect(auditSuspiciousInput.safeParse({ windowMinutes: 0 }).success).toBe(false);
    expect(auditSuspiciousInput.safeParse({ threshold: -1 }).success).toBe(false);
  });
});

describe.skipIf(!usingPostgres)('query plans on a large table (PostgreSQL; skipped on PGlite: needs the real planner)', () => {
  let sqlClient: postgres.Sql;
  beforeAll(async () => {
    sqlClient = postgres(testDb.url, { max: 1, onnotice: () => {} });
    // 200,000 events over 30 days: 2,000 users, 5,000 addresses, a mix of types.
    await sqlClient`
      insert into auth_events (type, user_id, ip, success, metadata, created_at)
      select (array['login','login_failed','refresh','logout','register','rate_limited'])[1 + g % 6],
             ('00000000-0000-4000-8000-' || lpad((g % 2000)::text, 12, '0'))::uuid,
             '198.51.' || (g % 5000 / 250) || '.' || (g % 250),
             g % 6 <> 1,
             jsonb_build_object('email', 'user' || (g % 2000) || '@example.test'),
             now() - (g * interval '13 seconds')
      from generate_series(1, 200000) g`;
    await sqlClient`analyze auth_events`;
  }, 120_000);
  afterAll(async () => {
    await sqlClient?.end();
  });

  async function plan(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
    const { sql: text, params } = query.toSQL();
    const rows = await sqlClient.unsafe(`explain ${text}`, params as never[]);
    return rows.map((r) => Object.values(r)[0]).join('\n');
  }

  const parse = (input: Record<string, unknown>) => auditListInput.parse(input);

  it('serves every list filter, and the next page, from an index ending in (created_at, id)', async () => {
    const first = await listAuditEvents(database.db, parse({ limit: 50 }));
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'auth_events_created_at_id_idx'],
      [{ cursor: first.nextCursor }, 'auth_events_created_at_id_idx'],
      [{ userId: '00000000-0000-4000-8000-000000000042' }, 'auth_events_user_id_created_at_id_idx'],
      [{ userId: '00000000-0000-4000-8000-000000000042', cursor: first.nextCursor }, 'auth_events_user_id_created_at_id_idx'],
      [{ type: 'rate_limited' }, 'auth_events_type_created_at_id_idx'],
      [{ ip: '198.51.3.17' }, 'auth_events_ip_created_at_id_idx'],
    ];
    for (const [input, index] of cases) {
      const text = await plan(auditListQuery(database.db, parse({ limit: 50, ...input })));
      expect(text, JSON.stringify(input)).not.toMatch(/Seq Scan on auth_events/);
      expect(text, JSON.stringify(input)).toContain(index);
      // Unfiltered pages read the index in order and stop after one page: no sort of the table.
      if (!input.userId && !input.type && !input.ip) expect(text, JSON.stringify(input)).not.toMatch(/Sort\b/);
    }
  });

  it('serves the suspicious report from the (type, created_at) index, not a scan of the table', async () => {
    const { byIp, byAccount } = suspiciousQueries(database.db, new Date(Date.now() - 60 * 60_000), new Date(), 10);
    for (const query of [byIp, byAccount]) {
      const text = await plan(query);
      expect(text).not.toMatch(/Seq Scan on auth_events/);
      expect(text).toContain('auth_events_type_created_at_id_idx');
    }
  });
});
