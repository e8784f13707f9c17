// Reading the audit trail, for admin.audit.list and admin.audit.suspicious. Plain functions over
// the db with zod inputs; the admin router adds the permission check and nothing else.
//
// Pages are newest first and keyset-paginated on (created_at, id): the cursor names the last row
// of a page, so a page costs one index range scan however deep it is, and rows written meanwhile
// never shift or repeat a page. The cursor keeps created_at to the microsecond (PostgreSQL's
// precision): a millisecond Date would skip rows written within the same millisecond.
import { and, countDistinct, count, desc, eq, gte, lt, lte, max, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client.ts';
import { authEvents } from '../../db/schema/index.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from './audit.ts';

const MICROS_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Cursor {
  at: string;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

const cursorInput = z
  .string()
  .max(200)
  .transform((value, ctx): Cursor => {
    const [at = '', id = '', ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
    if (rest.length > 0 || !MICROS_ISO.test(at) || !UUID.test(id)) {
      ctx.addIssue({ code: 'custom', message: 'Not a cursor from a previous page' });
      return z.NEVER;
    }
    return { at, id };
  });

const instant = z.iso.datetime({ offset: true, message: 'Must be an ISO 8601 date-time' }).transform((value) => new Date(value));

export const auditListInput = z.strictObject({
  userId: z.uuid('Must be a user id').optional(),
  type: z.enum(AUDIT_EVENT_TYPES).optional(),
  success: z.boolean().optional(),
  ip: z.string().min(1).max(64).optional(),
  /** Inclusive. */
  from: instant.optional(),
  /** Exclusive. */
  to: instant.optional(),
  cursor: cursorInput.optional(),
  limit: z.number().int().min(1).max(100).default(50),
});

export type AuditListQuery = z.output<typeof auditListInput>;

export interface AuditEventView {
  id: string;
  type: AuditEventType;
  userId: string | null;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  success: boolean;
  reason: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
}

export interface AuditPage {
  items: AuditEventView[];
  nextCursor: string | null;
}

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
    // A row-value comparison: PostgreSQL walks the (…, created_at, id) indexes straight from it.
    query.cursor === undefined ? undefined : sql`(${authEvents.createdAt}, ${authEvents.id}) < (${query.cursor.at}::timestamptz, ${query.cursor.id}::uuid)`,
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
  windowMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
  threshold: z.number().int().min(1).max(1_000_000).default(10),
});

export type AuditSuspiciousQuery = z.output<typeof auditSuspiciousInput>;

export interface SuspiciousReport {
  since: string;
  windowMinutes: number;
  threshold: number;
  /** Addresses with at least `threshold` failed logins in the window, most first. */
  ips: { ip: string | null; failures: number; accounts: number; lastAt: string }[];
  /** Accounts (by the email tried, known or not) with at least `threshold` failed logins, most first. */
  accounts: { email: string | null; userId: string | null; failures: number; ips: number; lastAt: string }[];
}

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
