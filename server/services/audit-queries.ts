import { and, countDistinct, count, desc, eq, gte, lt, lte, max, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { authEvents } from '../../db/schema/index.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from '../common/audit-events.ts';
import { after, cursorInput, encodeCursor } from '../common/cursor.ts';
import { boolOrText, intOrText } from '../common/inputs.ts';
import type { AuditPage, SuspiciousReport } from '../common/outputs.ts';

const instant = z.iso.datetime({ offset: true, message: 'Must be an ISO 8601 date-time' }).transform((value) => new Date(value));

export const auditListInput = z.strictObject({
  userId: z.uuid('Must be a user id').optional(),
  type: z.enum(AUDIT_EVENT_TYPES).optional(),
  success: boolOrText.optional(),
  ip: z.string().min(1).max(64).optional(),
  /** Inclusive. */
  from: instant.optional(),
  /** Exclusive. */
  to: instant.optional(),
  cursor: cursorInput.optional(),
  limit: intOrText(1, 100).default(50),
});

export type AuditListQuery = z.output<typeof auditListInput>;

const createdAtMicros = sql<string>`to_char(${authEvents.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The list query, unexecuted: tests EXPLAIN it. */
export function auditListQuery(db: Db, query: AuditListQuery) {
  const where: (SQL | undefined)[] = [
    query.userId === undefined ? undefined : eq(authEvents.userId, query.userId),
    query.type === undefined ? undefined : eq(authEvents.type, query.type),
    query.success === undefined ? undefined : eq(authEvents.success, query.success),
    query.ip === undefined ? undefined : eq(authEvents.ip, query.ip),
    query.from === undefined ? undefined : gte(authEvents.createdAt, query.from),
    query.to === undefined ? undefined : lt(authEvents.createdAt, query.to),
    query.cursor === undefined ? undefined : after(authEvents.createdAt, authEvents.id, query.cursor),
  ];
  return db
    .select({
      id: authEvents.id,
      type: authEvents.type,
      userId: authEvents.userId,
      actorId: authEvents.actorId,
      ip: authEvents.ip,
      userAgent: authEvents.userAgent,
      success: authEvents.success,
      reason: authEvents.reason,
      metadata: authEvents.metadata,
      createdAt: authEvents.createdAt,
      cursorAt: createdAtMicros,
    })
    .from(authEvents)
    .where(and(...where))
    .orderBy(desc(authEvents.createdAt), desc(authEvents.id))
    .limit(query.limit + 1);
}

export async function listAuditEvents(db: Db, query: AuditListQuery): Promise<AuditPage> {
  const rows = await auditListQuery(db, query);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursorAt: _cursorAt, createdAt, type, ...row }) => ({ ...row, type: type as AuditEventType, createdAt: createdAt.toISOString() })),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
  };
}

export const auditSuspiciousInput = z.strictObject({
  windowMinutes: intOrText(1, 7 * 24 * 60).default(60),
  threshold: intOrText(1, 1_000_000).default(10),
});

export type AuditSuspiciousQuery = z.output<typeof auditSuspiciousInput>;

const REPORT_ROWS = 100;
const failedEmail = sql<string | null>`${authEvents.metadata}->>'email'`;

/** The two grouping queries, unexecuted: tests EXPLAIN them. */
export function suspiciousQueries(db: Db, since: Date, until: Date, threshold: number) {
  const failedSince = and(eq(authEvents.type, 'login_failed' satisfies AuditEventType), gte(authEvents.createdAt, since), lte(authEvents.createdAt, until));
  const failures = count();
  return {
    byIp: db
      .select({ ip: authEvents.ip, failures, accounts: countDistinct(failedEmail), lastAt: max(authEvents.createdAt) })
      .from(authEvents)
      .where(failedSince)
      .groupBy(authEvents.ip)
      .having(gte(failures, threshold))
      .orderBy(desc(failures))
      .limit(REPORT_ROWS),
    byAccount: db
      .select({
        email: failedEmail,
        userId: sql<string | null>`max(${authEvents.userId}::text)`,
        failures,
        ips: countDistinct(authEvents.ip),
        lastAt: max(authEvents.createdAt),
      })
      .from(authEvents)
      .where(failedSince)
      .groupBy(failedEmail)
      .having(gte(failures, threshold))
      .orderBy(desc(failures))
      .limit(REPORT_ROWS),
  };
}

export async function suspiciousActivity(db: Db, query: AuditSuspiciousQuery, now = new Date()): Promise<SuspiciousReport> {
  const since = new Date(now.getTime() - query.windowMinutes * 60_000);
  const { byIp, byAccount } = suspiciousQueries(db, since, now, query.threshold);
  const [ips, accounts] = await Promise.all([byIp, byAccount]);
  const iso = (value: Date | null) => (value ?? since).toISOString();
  return {
    since: since.toISOString(),
    windowMinutes: query.windowMinutes,
    threshold: query.threshold,
    ips: ips.map((row) => ({ ...row, lastAt: iso(row.lastAt) })),
    accounts: accounts.map((row) => ({ ...row, lastAt: iso(row.lastAt) })),
  };
}

export function createAuditLog(db: Db) {
  return {
    list: (query: AuditListQuery) => listAuditEvents(db, query),
    suspicious: (query: AuditSuspiciousQuery) => suspiciousActivity(db, query),
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
