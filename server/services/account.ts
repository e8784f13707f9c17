import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { normalizePassword } from '../common/inputs.ts';
import type { Profile, SessionView, UserWithProfile } from '../common/outputs.ts';
import type { Audit } from './audit.ts';
import type { Passwords } from './passwords.ts';
import { endSession, endUserSessions, listUserSessions, sessionBelongsTo, sessionKeyOf } from './sessions.ts';
import { findUserById, toUserWithProfile, updateProfile } from './users.ts';

export interface Self {
  user: UserRow;
  roles: string[];
  sid: string;
  meta: RequestMeta;
}

export function createAccountService({ db, audit, passwords }: { db: Db; audit: Audit; passwords: Passwords }) {
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
      const user = await findUserById(db, userId);
      if (!user) throw new AppError('INVALID_TOKEN', 'Sign in required');
      if (!(await passwords.verify(input.currentPassword, user.passwordHash)).ok) {
        await audit.record({ type: 'password_changed', success: false, userId, reason: 'wrong_current_password', ...meta });
        throw new AppError('INVALID_INPUT', 'Current password is incorrect', { fieldErrors: { currentPassword: ['Incorrect password'] } });
      }
      if (normalizePassword(input.newPassword) === normalizePassword(input.currentPassword)) {
        throw new AppError('WEAK_PASSWORD', 'Password does not meet the policy', { fieldErrors: { newPassword: ['Must differ from the current password'] } });
      }
      passwords.assertStrong(input.newPassword, [user.email.split('@')[0] ?? '', user.name ?? ''], 'newPassword');
      const passwordHash = await passwords.hash(input.newPassword);
      await db.transaction(async (tx) => {
        const now = new Date();
        await tx.update(users).set({ passwordHash, passwordChangedAt: now, updatedAt: now }).where(eq(users.id, userId));
        await endUserSessions(tx, userId, { except: sessionKeyOf(sid) });
        await audit.record({ type: 'password_changed', success: true, userId, ...meta }, tx);
      });
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
