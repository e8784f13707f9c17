// The flows of mailed links: password reset, email verification, confirming a new address.
import { eq } from 'drizzle-orm';
import { isUniqueViolation, type Db } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { AppError, invalidLink } from '../errors.ts';
import { consumeToken, findLiveToken, voidTokens } from './account-tokens.ts';
import type { Audit } from './audit.ts';
import { enqueueMail } from './outbox.ts';
import type { Passwords } from './passwords.ts';
import type { Actor } from './rbac.ts';
import { replacePassword } from './password-change.ts';
import { findUserById, normalizeEmail } from './users.ts';

export interface RecoveryDeps {
  db: Db;
  audit: Audit;
  passwords: Passwords;
  /** Wakes this instance's mail worker after a row is written. */
  outbox: { kick(): void };
}

const SUCCESS = { success: true } as const;

export function createRecoveryService({ db, audit, passwords, outbox }: RecoveryDeps) {
  /** The user of a live reset token, read without using it up. */
  async function resetTokenUser(token: string) {
    const row = await findLiveToken(db, 'password_reset', token);
    const user = row ? await findUserById(db, row.userId) : undefined;
    // A token made before the password last changed, or for another address, is void.
    if (!row || !user || !user.isActive || row.createdAt < user.passwordChangedAt || row.email !== user.email) throw invalidLink();
    return user;
  }

  return {
    /**
     * Writes the same row whether or not the address is an account's, so the answer and its time
     * tell nothing; the worker finds the account, or drops the row.
     */
    async requestPasswordReset(email: string, meta: RequestMeta, { returnTo }: { returnTo?: string | undefined } = {}): Promise<typeof SUCCESS> {
      const address = normalizeEmail(email);
      await db.transaction(async (tx) => {
        await enqueueMail(tx, { kind: 'password-reset', email: address, returnTo });
        await audit.record({ type: 'password_reset_requested', success: true, metadata: { email: address }, ...meta }, tx);
      });
      outbox.kick();
      return SUCCESS;
    },

    /** Whether a reset link still works, without using it up: the hosted page asks before showing its form. */
    async resetLinkValid(token: string): Promise<boolean> {
      return resetTokenUser(token).then(
        () => true,
        (error: unknown) => {
          if (error instanceof AppError && error.details.fieldErrors?.token) return false;
          throw error;
        },
      );
    },

    /** An admin's reset for a user: the same mail, to the user's address. */
    async sendPasswordReset(userId: string, actor: Actor): Promise<typeof SUCCESS> {
      const user = await findUserById(db, userId);
      if (!user) throw new AppError('NOT_FOUND', 'User not found');
      await db.transaction(async (tx) => {
        await enqueueMail(tx, { kind: 'password-reset', userId: user.id });
        await audit.record({ type: 'password_reset_requested', success: true, userId: user.id, actorId: actor.userId, metadata: { email: user.email }, ...actor.meta }, tx);
      });
      outbox.kick();
      return SUCCESS;
    },

    /** Sets a new password under the policy; every session, mailed link and MFA challenge ends. */
    async resetPassword(token: string, newPassword: string, meta: RequestMeta): Promise<typeof SUCCESS> {
      const user = await resetTokenUser(token);
      passwords.assertStrong(newPassword, [user.email.split('@')[0] ?? '', user.name ?? ''], 'newPassword');
      const passwordHash = await passwords.hash(newPassword);
      await db.transaction(async (tx) => {
        const used = await consumeToken(tx, 'password_reset', token);
        // The link came to this address: it is proven as a verification link would prove it.
        await replacePassword(tx, user.id, passwordHash, { emailVerified: used.email === user.email || undefined });
        await audit.record({ type: 'password_reset', success: true, userId: user.id, ...meta }, tx);
      });
      return SUCCESS;
    },

    async verifyEmail(token: string, meta: RequestMeta): Promise<typeof SUCCESS> {
      await db.transaction(async (tx) => {
        const used = await consumeToken(tx, 'email_verification', token);
        const user = await findUserById(tx, used.userId);
        // A link for an address the account no longer has proves nothing.
        if (!user || user.email !== used.email) throw invalidLink();
        await tx.update(users).set({ emailVerified: true, updatedAt: new Date() }).where(eq(users.id, user.id));
        await audit.record({ type: 'email_verified', success: true, userId: user.id, metadata: { email: user.email }, ...meta }, tx);
      });
      return SUCCESS;
    },

    /** Mails a new verification link: to the signed-in user, or to an address (the same answer whoever holds it). */
    async resendVerification(target: { userId: string } | { email: string }): Promise<typeof SUCCESS> {
      await enqueueMail(db, 'userId' in target ? { kind: 'verify-email', userId: target.userId } : { kind: 'verify-email', email: normalizeEmail(target.email) });
      outbox.kick();
      return SUCCESS;
    },

    /** Moves the account to the address the link was sent to; CONFLICT if another account took it meanwhile. */
    async confirmEmailChange(token: string, meta: RequestMeta): Promise<typeof SUCCESS> {
      await db.transaction(async (tx) => {
        const used = await consumeToken(tx, 'email_change', token);
        const user = await findUserById(tx, used.userId);
        if (!user || !user.isActive || used.createdAt < user.passwordChangedAt) throw invalidLink();
        await tx
          .update(users)
          .set({ email: used.email, emailVerified: true, updatedAt: new Date() })
          .where(eq(users.id, user.id))
          .catch((error: unknown) => {
            throw isUniqueViolation(error) ? new AppError('CONFLICT', 'This address is now used by another account') : error;
          });
        await voidTokens(tx, user.id);
        await audit.record({ type: 'email_changed', success: true, userId: user.id, metadata: { from: user.email, to: used.email }, ...meta }, tx);
      });
      return SUCCESS;
    },
  };
}

export type RecoveryService = ReturnType<typeof createRecoveryService>;
