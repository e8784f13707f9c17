import type { Db } from '../../db/client.ts';
import type { UserRow } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { normalizePassword } from '../common/inputs.ts';
import type { Profile, SessionView, UserWithProfile } from '../common/outputs.ts';
import type { Audit } from './audit.ts';
import type { Passwords } from './passwords.ts';
import { endSession, listUserSessions, sessionBelongsTo, sessionKeyOf } from './sessions.ts';
import { replacePassword } from './password-change.ts';
import { enqueueMail } from './outbox.ts';
import { emailTaken, findUserByEmail, findUserById, normalizeEmail, toUserWithProfile, updateProfile } from './users.ts';

export interface Self {
  user: UserRow;
  roles: string[];
  sid: string;
  meta: RequestMeta;
}

export interface AccountDeps {
  db: Db;
  audit: Audit;
  passwords: Passwords;
  outbox: { kick(): void };
}

export function createAccountService({ db, audit, passwords, outbox }: AccountDeps) {
  async function checkPassword(userId: string, password: string, failure: { type: 'password_changed' | 'email_change_requested'; meta: RequestMeta }): Promise<UserRow> {
    const user = await findUserById(db, userId);
    if (!user) throw new AppError('INVALID_TOKEN', 'Sign in required');
    if (!(await passwords.verify(password, user.passwordHash)).ok) {
      await audit.record({ type: failure.type, success: false, userId, reason: 'wrong_current_password', ...failure.meta });
      throw new AppError('INVALID_INPUT', 'Current password is incorrect', { fieldErrors: { currentPassword: ['Incorrect password'] } });
    }
    return user;
  }

  return {
    profile({ user, roles }: Self): UserWithProfile {
      return toUserWithProfile(user, roles);
    },

    /** Changes the profile fields given; `null` clears one. */
    async updateProfile({ user, roles }: Self, changes: Partial<Profile>): Promise<UserWithProfile> {
      const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
      const row = Object.keys(defined).length > 0 ? await updateProfile(db, user.id, defined) : user;
      return toUserWithProfile(row, roles);
    },

    /** Requires the current password; ends every session but the caller's own. */
    async changePassword({ user: { id: userId }, sid, meta }: Self, input: { currentPassword: string; newPassword: string }): Promise<{ success: true }> {
      const user = await checkPassword(userId, input.currentPassword, { type: 'password_changed', meta });
      if (normalizePassword(input.newPassword) === normalizePassword(input.currentPassword)) {
        throw new AppError('WEAK_PASSWORD', 'Password does not meet the policy', { fieldErrors: { newPassword: ['Must differ from the current password'] } });
      }
      passwords.assertStrong(input.newPassword, [user.email.split('@')[0] ?? '', user.name ?? ''], 'newPassword');
      const passwordHash = await passwords.hash(input.newPassword);
      await db.transaction(async (tx) => {
        // A link asked for with the old password (an email change) must not outlive it.
        await replacePassword(tx, userId, passwordHash, { keepSession: sessionKeyOf(sid) });
        await audit.record({ type: 'password_changed', success: true, userId, ...meta }, tx);
      });
      return { success: true };
    },

    /**
     * Mails a confirmation link to the new address and a notice to the old one; the address changes
     * only when the link is used (recovery.confirmEmailChange). Sessions stay.
     */
    async changeEmail({ user: { id: userId }, meta }: Self, input: { newEmail: string; currentPassword: string }): Promise<{ success: true }> {
      const user = await checkPassword(userId, input.currentPassword, { type: 'email_change_requested', meta });
      const newEmail = normalizeEmail(input.newEmail);
      if (newEmail === user.email) throw new AppError('INVALID_INPUT', 'This is already your address', { fieldErrors: { newEmail: ['Same as the current address'] } });
      if (await findUserByEmail(db, newEmail)) throw emailTaken('newEmail');
      await db.transaction(async (tx) => {
        await enqueueMail(tx, { kind: 'email-change-confirm', userId, newEmail });
        await enqueueMail(tx, { kind: 'email-change-notice', userId, oldEmail: user.email, newEmail });
        await audit.record({ type: 'email_change_requested', success: true, userId, metadata: { from: user.email, to: newEmail }, ...meta }, tx);
      });
      outbox.kick();
      return { success: true };
    },

    sessions({ user, sid }: Self): Promise<SessionView[]> {
      return listUserSessions(db, user.id, sessionKeyOf(sid));
    },

    async revokeSession({ user, meta }: Self, id: string): Promise<{ success: true }> {
      // Another user's session id is answered exactly like an unknown one.
      if (!(await sessionBelongsTo(db, id, user.id))) throw new AppError('NOT_FOUND', 'Session not found');
      await endSession(db, id);
      await audit.record({ type: 'session_revoked', success: true, userId: user.id, actorId: user.id, metadata: { session: id }, ...meta });
      return { success: true };
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
