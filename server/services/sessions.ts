// Sign-in sessions. A session is an oidc-provider Grant: refresh tokens hang off its id, access tokens
// carry it as `sid`. Store-level, so ending a session needs no provider request context.
import { and, desc, eq, gt, isNull, lt, ne, not, or } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { oidcPayloads, sessions } from '../../db/schema/index.ts';
import { digest } from '../common/digest.ts';
import type { SessionView } from '../common/outputs.ts';
import type { RequestMeta } from '../common/audit-events.ts';

export interface NewSession {
  grantId: string;
  userId: string;
  clientId: string;
  meta: RequestMeta;
  expiresAt: Date;
}

export async function recordSession(db: Db, s: NewSession): Promise<void> {
  await db
    .insert(sessions)
    .values({
      id: digest(s.grantId),
      userId: s.userId,
      clientId: s.clientId,
      ip: s.meta.ip,
      userAgent: s.meta.userAgent?.slice(0, 512) ?? null,
      expiresAt: s.expiresAt,
    })
    .onConflictDoNothing();
}

export async function touchSession(db: Db, grantId: string): Promise<void> {
  await db.update(sessions).set({ lastUsedAt: new Date() }).where(eq(sessions.id, digest(grantId)));
}

/** The session of a refresh token, rotated or not: a logout with an older token still ends it. */
export async function sessionOfRefreshToken(db: Db, refreshToken: string): Promise<{ sessionKey: string; userId: string | null } | undefined> {
  const [row] = await db
    .select({ grantId: oidcPayloads.grantId, accountId: oidcPayloads.accountId })
    .from(oidcPayloads)
    .where(and(eq(oidcPayloads.model, 'RefreshToken'), eq(oidcPayloads.id, digest(refreshToken)), gt(oidcPayloads.expiresAt, new Date())))
    .limit(1);
  if (!row?.grantId) return undefined;
  return { sessionKey: row.grantId, userId: row.accountId };
}

/** Ends a session by its key (the digest of its grant id): the grant, every token of it, its record. */
export async function endSession(db: Db, sessionKey: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const gone = await tx
      .delete(oidcPayloads)
      .where(or(eq(oidcPayloads.grantId, sessionKey), and(eq(oidcPayloads.model, 'Grant'), eq(oidcPayloads.id, sessionKey))))
      .returning({ model: oidcPayloads.model });
    await tx.delete(sessions).where(eq(sessions.id, sessionKey));
    return gone.some((row) => row.model === 'Grant');
  });
}

/** Ends every session of a user (grants, tokens, /oidc browser sessions, records) but the one keyed `except`. */
export async function endUserSessions(db: Db, userId: string, { except }: { except?: string } = {}): Promise<void> {
  await db.transaction(async (tx) => {
    const keep = except
      ? and(or(isNull(oidcPayloads.grantId), ne(oidcPayloads.grantId, except)), not(and(eq(oidcPayloads.model, 'Grant'), eq(oidcPayloads.id, except))!))
      : undefined;
    await tx.delete(oidcPayloads).where(and(eq(oidcPayloads.accountId, userId), keep));
    await tx.delete(sessions).where(and(eq(sessions.userId, userId), except ? ne(sessions.id, except) : undefined));
  });
}

export async function listUserSessions(db: Db, userId: string, currentKey: string | null): Promise<SessionView[]> {
  // Only sessions whose grant lives: the provider may revoke one itself (refresh-token reuse, logout).
  const rows = await db
    .select({
      id: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      userAgent: sessions.userAgent,
      ip: sessions.ip,
    })
    .from(sessions)
    .innerJoin(oidcPayloads, and(eq(oidcPayloads.model, 'Grant'), eq(oidcPayloads.id, sessions.id)))
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, new Date()), or(isNull(oidcPayloads.expiresAt), gt(oidcPayloads.expiresAt, new Date()))))
    .orderBy(desc(sessions.createdAt));
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt.toISOString(),
    userAgent: row.userAgent,
    ip: row.ip,
    current: row.id === currentKey,
  }));
}

export async function sessionBelongsTo(db: Db, sessionKey: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, sessionKey), eq(sessions.userId, userId)))
    .limit(1);
  return row !== undefined;
}

export function sessionKeyOf(grantId: string): string {
  return digest(grantId);
}

export async function purgeExpiredSessions(db: Db, now = new Date()): Promise<void> {
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
}
