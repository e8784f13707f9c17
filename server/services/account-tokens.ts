// The single-use tokens of mailed links: 256 random bits, stored only as their digest.
import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { accountTokens, type AccountTokenRow } from '../../db/schema/index.ts';
import { digest } from '../common/digest.ts';
import { invalidLink } from '../errors.ts';

export type AccountTokenKind = AccountTokenRow['kind'];

/** How long each kind of link works. */
export const TOKEN_TTL_SECONDS: Record<AccountTokenKind, number> = {
  password_reset: 30 * 60,
  email_verification: 24 * 3600,
  email_change: 24 * 3600,
};

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Unknown, used, expired and malformed tokens, and tokens of another kind, all match nothing. */
const live = (kind: AccountTokenKind, token: string, now: Date) =>
  and(eq(accountTokens.id, digest(token)), eq(accountTokens.kind, kind), isNull(accountTokens.usedAt), gt(accountTokens.expiresAt, now));

/** The row of a live token, read without using it up; undefined for any other token. */
export async function findLiveToken(db: Db, kind: AccountTokenKind, token: string): Promise<AccountTokenRow | undefined> {
  if (!TOKEN.test(token)) return undefined;
  const [row] = await db.select().from(accountTokens).where(live(kind, token, new Date())).limit(1);
  return row;
}

/** A new token for the user; every unused token of the same kind the user had is void from now on. */
export async function issueToken(db: Db, kind: AccountTokenKind, userId: string, email: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.update(accountTokens).set({ usedAt: now }).where(and(eq(accountTokens.userId, userId), eq(accountTokens.kind, kind), isNull(accountTokens.usedAt)));
    await tx.insert(accountTokens).values({ id: digest(token), kind, userId, email, createdAt: now, expiresAt: new Date(now.getTime() + TOKEN_TTL_SECONDS[kind] * 1000) });
  });
  return token;
}

/**
 * Uses the token up, atomically: of two requests with the same token, one wins; any other token
 * fails alike (invalidLink). Call inside the transaction of the change the token allows, so that a
 * failed change leaves it unused.
 */
export async function consumeToken(tx: Db, kind: AccountTokenKind, token: string): Promise<AccountTokenRow> {
  if (!TOKEN.test(token)) throw invalidLink();
  const now = new Date();
  const [row] = await tx.update(accountTokens).set({ usedAt: now }).where(live(kind, token, now)).returning();
  if (!row) throw invalidLink();
  return row;
}

/** Voids every unused token of the user (of one kind, or all). */
export async function voidTokens(db: Db, userId: string, kind?: AccountTokenKind): Promise<void> {
  await db
    .update(accountTokens)
    .set({ usedAt: new Date() })
    .where(and(eq(accountTokens.userId, userId), kind ? eq(accountTokens.kind, kind) : undefined, isNull(accountTokens.usedAt)));
}

export async function purgeAccountTokens(db: Db, now = new Date()): Promise<void> {
  await db.delete(accountTokens).where(lt(accountTokens.expiresAt, now));
}
