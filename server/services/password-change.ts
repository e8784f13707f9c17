// A new password, and what it ends: every mailed link, every MFA challenge opened with the old
// password, and every session but the one kept. Runs in the caller's transaction.
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { mfaChallenges, users, type UserRow } from '../../db/schema/index.ts';
import { voidTokens } from './account-tokens.ts';
import { endUserSessions } from './sessions.ts';

export interface ReplacePasswordOptions {
  /** The session key of the caller's own session, which stays. */
  keepSession?: string | undefined;
  /** Set with the hash: a reset link proves the address it came to. */
  emailVerified?: true | undefined;
}

/** Stores the new hash; undefined when the user is gone. */
export async function replacePassword(tx: Db, userId: string, passwordHash: string, { keepSession, emailVerified }: ReplacePasswordOptions = {}): Promise<UserRow | undefined> {
  const now = new Date();
  const [row] = await tx
    .update(users)
    .set({ passwordHash, passwordChangedAt: now, updatedAt: now, ...(emailVerified ? { emailVerified } : {}) })
    .where(eq(users.id, userId))
    .returning();
  if (!row) return undefined;
  await voidTokens(tx, userId);
  await endUserSessions(tx, userId, keepSession ? { except: keepSession } : {});
  await tx.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId));
  return row;
}
