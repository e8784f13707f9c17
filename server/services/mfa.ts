// The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step either side) with recovery codes,
// and the challenges between a password and tokens. TOTP secrets are sealed with the key in KEYS_DIR;
// recovery codes, challenges and enrolment tokens are stored as digests only.
import { randomBytes } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding, encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, verifyHOTP } from '@oslojs/otp';
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { mfaChallenges, mfaRecoveryCodes, users, type MfaChallengeRow, type UserRow } from '../../db/schema/index.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { digest } from '../common/digest.ts';
import { isTotpCode, normalizeRecoveryCode } from '../common/inputs.ts';
import type { MfaChallenge, MfaEnrollment } from '../common/outputs.ts';
import { UnsealError, type Sealer } from '../common/seal.ts';
import { AppError } from '../errors.ts';
import type { Audit } from './audit.ts';
import type { Passwords } from './passwords.ts';
import type { GuardLimiter } from './rate-limits/limiter.ts';
import { assertHolds, loadAccess, type Actor } from './rbac.ts';
import { findUserById } from './users.ts';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const RECOVERY_CODE_COUNT = 10;
export const CHALLENGE_TTL_SECONDS = 300;
export const ENROLLMENT_TTL_SECONDS = 600;
export const MAX_FAILED_CODES = 5;

/** The one answer to a challenge that is wrong, spent, expired, another's or unknown: none is told apart. */
export const INVALID_MFA_MESSAGE = 'Invalid or expired code';

export type MfaMethod = 'totp' | 'recovery_code';

export interface TotpEnrollment {
  /** Base32, for typing into an app. */
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

export interface MfaAnswer {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

export interface MfaDeps {
  db: Db;
  audit: Audit;
  passwords: Passwords;
  sealer: Sealer;
  limit: GuardLimiter;
  /** The name authenticator apps show beside the account (the service's host). */
  issuer: string;
  requiredRoles: readonly string[];
  /** Told when a stored secret does not open with the key in KEYS_DIR. */
  onUnsealFailed?: (userId: string, error: Error) => void;
}

const invalidAnswer = () => new AppError('INVALID_TOKEN', INVALID_MFA_MESSAGE);
const wrongCode = (field = 'code') => new AppError('INVALID_INPUT', 'That code is not right', { fieldErrors: { [field]: ['That code is not right'] } });
const secretContext = (userId: string) => `totp-secret:${userId}`;
const recoveryDigest = (userId: string, code: string) => digest(`recovery-code:${userId}:${code}`);

function newRecoveryCodes(): string[] {
  // 10 base32 characters, 50 bits each: shown as xxxxx-xxxxx.
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const code = encodeBase32LowerCaseNoPadding(randomBytes(7)).slice(0, 10);
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

export function createMfaService({ db, audit, passwords, sealer, limit, issuer, requiredRoles, onUnsealFailed }: MfaDeps) {
  async function freshUser(userId: string): Promise<UserRow> {
    const user = await findUserById(db, userId);
    if (!user) throw new AppError('NOT_FOUND', 'User not found');
    return user;
  }

  /** Whether `code` is the user's TOTP code now (±1 step) and newer than the last one accepted; records its step. */
  async function acceptTotp(user: UserRow, code: string): Promise<boolean> {
    if (!user.totpSecret) return false;
    const key = openSecret(user);
    const now = Math.floor(Date.now() / 1000 / TOTP_PERIOD_SECONDS);
    let step: number | undefined;
    // Every candidate is checked, so the time taken does not say which step matched.
    for (const candidate of [now - 1, now, now + 1]) {
      if (verifyHOTP(key, BigInt(candidate), TOTP_DIGITS, code) && step === undefined) step = candidate;
    }
    if (step === undefined) return false;
    // Conditional on the last step: of two requests with one code, one wins.
    const [row] = await db
      .update(users)
      .set({ totpLastStep: step })
      .where(and(eq(users.id, user.id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
      .returning({ id: users.id });
    return row !== undefined;
  }

  async function acceptRecoveryCode(user: UserRow, code: string): Promise<boolean> {
    const [row] = await db
      .update(mfaRecoveryCodes)
      .set({ usedAt: new Date() })
      .where(and(eq(mfaRecoveryCodes.userId, user.id), eq(mfaRecoveryCodes.codeDigest, recoveryDigest(user.id, normalizeRecoveryCode(code))), isNull(mfaRecoveryCodes.usedAt)))
      .returning({ userId: mfaRecoveryCodes.userId });
    return row !== undefined;
  }

  /** The method that `answer` proves, or null; a code is spent once accepted. */
  async function accept(user: UserRow, answer: MfaAnswer): Promise<MfaMethod | null> {
    if (user.totpEnabledAt === null) return null;
    if (answer.code !== undefined) return (await acceptTotp(user, answer.code)) ? 'totp' : null;
    if (answer.recoveryCode !== undefined) return (await acceptRecoveryCode(user, answer.recoveryCode)) ? 'recovery_code' : null;
    return null;
  }

  async function replaceRecoveryCodes(tx: Db, userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    await tx.insert(mfaRecoveryCodes).values(codes.map((code) => ({ userId, codeDigest: recoveryDigest(userId, normalizeRecoveryCode(code)) })));
    return codes;
  }

  async function clearFactor(tx: Db, userId: string): Promise<void> {
    await tx.update(users).set({ totpSecret: null, totpEnabledAt: null, totpLastStep: null, updatedAt: new Date() }).where(eq(users.id, userId));
    await tx.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId));
    await tx.delete(mfaChallenges).where(eq(mfaChallenges.userId, userId));
  }

  /** A code check of a signed-in user under the mfa limit, after `precheck` (a password) if given; a
   *  wrong code is audited and a 400 on `code`. A recovery code is taken where a TOTP code is asked for. */
  async function checked(user: UserRow, code: string, meta: RequestMeta, during: string, precheck?: () => Promise<void>): Promise<MfaMethod> {
    const attempt = await limit.begin(user.id, meta, { userId: user.id, metadata: { during } });
    await precheck?.();
    const method = await accept(user, isTotpCode(code) ? { code } : { recoveryCode: code });
    if (!method) {
      await audit.record({ type: 'mfa_failed', success: false, userId: user.id, reason: 'wrong_code', metadata: { during }, ...meta });
      throw wrongCode();
    }
    await attempt.succeeded();
    if (method === 'recovery_code') await audit.record({ type: 'mfa_recovery_used', success: true, userId: user.id, metadata: { during }, ...meta });
    return method;
  }

  /** The user's TOTP key. A secret that does not open (another key in KEYS_DIR, an altered row) makes
   *  the check impossible, not the code wrong: UNAVAILABLE, and the cause goes to the log. */
  function openSecret(user: UserRow): Uint8Array {
    try {
      return sealer.open(user.totpSecret!, secretContext(user.id));
    } catch (error) {
      if (!(error instanceof UnsealError)) throw error;
      onUnsealFailed?.(user.id, error);
      throw new AppError('UNAVAILABLE', 'Two-step verification is unavailable right now');
    }
  }

  async function enrollmentOf(user: UserRow): Promise<TotpEnrollment> {
    const key = openSecret(user);
    const otpauthUrl = createTOTPKeyURI(issuer, user.email, key, TOTP_PERIOD_SECONDS, TOTP_DIGITS);
    // Loaded on first use: start-up does not pay for it.
    const { default: QRCode } = await import('qrcode');
    const qrSvg = await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret: encodeBase32UpperCaseNoPadding(key), otpauthUrl, qrSvg };
  }

  async function issue(purpose: MfaChallengeRow['purpose'], userId: string, options: { resource?: string | undefined; interactionUid?: string | undefined }): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const ttl = purpose === 'verify' ? CHALLENGE_TTL_SECONDS : ENROLLMENT_TTL_SECONDS;
    await db.insert(mfaChallenges).values({
      id: digest(token),
      purpose,
      userId,
      resource: options.resource ?? null,
      interactionUid: options.interactionUid ?? null,
      expiresAt: new Date(Date.now() + ttl * 1000),
    });
    return token;
  }

  async function liveChallenge(token: string, purpose: MfaChallengeRow['purpose']): Promise<MfaChallengeRow | undefined> {
    const [row] = await db
      .select()
      .from(mfaChallenges)
      .where(and(eq(mfaChallenges.id, digest(token)), eq(mfaChallenges.purpose, purpose), gt(mfaChallenges.expiresAt, new Date()), lt(mfaChallenges.failedAttempts, MAX_FAILED_CODES)))
      .limit(1);
    return row;
  }

  /** Deletes a live challenge: true for the one request that does. */
  async function claim(row: MfaChallengeRow): Promise<boolean> {
    const [claimed] = await db
      .delete(mfaChallenges)
      .where(and(eq(mfaChallenges.id, row.id), gt(mfaChallenges.expiresAt, new Date()), lt(mfaChallenges.failedAttempts, MAX_FAILED_CODES)))
      .returning({ id: mfaChallenges.id });
    return claimed !== undefined;
  }

  return {
    /** What a password sign-in leads to: a challenge when the account has a factor, an enrolment when
     *  MFA_REQUIRED_ROLES names one of its roles and it has none, else null (tokens at once). */
    async afterPassword(user: UserRow, options: { resource?: string | undefined; interactionUid?: string | undefined } = {}): Promise<MfaChallenge | MfaEnrollment | null> {
      if (user.totpEnabledAt !== null) {
        const [unused] = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(mfaRecoveryCodes)
          .where(and(eq(mfaRecoveryCodes.userId, user.id), isNull(mfaRecoveryCodes.usedAt)));
        const methods: MfaChallenge['methods'] = (unused?.n ?? 0) > 0 ? ['totp', 'recovery_code'] : ['totp'];
        return { mfaRequired: true, mfaToken: await issue('verify', user.id, options), methods };
      }
      if (requiredRoles.length === 0) return null;
      const { roles } = await loadAccess(db, user.id);
      if (!roles.some((role) => requiredRoles.includes(role))) return null;
      return { mfaEnrollmentRequired: true, enrollmentToken: await issue('enroll', user.id, options), expiresIn: ENROLLMENT_TTL_SECONDS };
    },

    /**
     * Answers a challenge: the user it was for, the resource asked for at sign-in and the method used.
     * Single use, 5 minutes, 5 wrong codes, limited per account and address; every refusal is the same
     * INVALID_TOKEN, and a wrong code is audited.
     */
    async answer(token: string, answer: MfaAnswer, meta: RequestMeta, options: { interactionUid?: string } = {}): Promise<{ user: UserRow; resource: string | null; method: MfaMethod }> {
      const row = await liveChallenge(token, 'verify');
      if (!row || (row.interactionUid ?? undefined) !== options.interactionUid) {
        // Counted against the address: nobody tries tokens for free.
        await limit.begin(`challenge:${digest(token)}`, meta);
        throw invalidAnswer();
      }
      const attempt = await limit.begin(row.userId, meta, { userId: row.userId, metadata: { during: 'sign_in' } });
      const user = await findUserById(db, row.userId);
      if (!user?.isActive || user.totpEnabledAt === null) {
        await db.delete(mfaChallenges).where(eq(mfaChallenges.id, row.id));
        throw invalidAnswer();
      }
      const method = await accept(user, answer);
      if (!method) {
        await db
          .update(mfaChallenges)
          .set({ failedAttempts: sql`${mfaChallenges.failedAttempts} + 1` })
          .where(eq(mfaChallenges.id, row.id));
        await audit.record({ type: 'mfa_failed', success: false, userId: user.id, reason: 'wrong_code', metadata: { during: 'sign_in', method: answer.recoveryCode !== undefined ? 'recovery_code' : 'totp' }, ...meta });
        throw invalidAnswer();
      }
      if (!(await claim(row))) throw invalidAnswer();
      await attempt.succeeded();
      if (method === 'recovery_code') await audit.record({ type: 'mfa_recovery_used', success: true, userId: user.id, metadata: { during: 'sign_in' }, ...meta });
      return { user, resource: row.resource, method };
    },

    /** The user an enrolment token (from a sign-in under MFA_REQUIRED_ROLES) is for, or null. */
    async enrollment(token: string, options: { interactionUid?: string } = {}): Promise<{ user: UserRow; resource: string | null } | null> {
      const row = await liveChallenge(token, 'enroll');
      if (!row || (row.interactionUid ?? undefined) !== options.interactionUid) return null;
      const user = await findUserById(db, row.userId);
      return user?.isActive ? { user, resource: row.resource } : null;
    },

    /** Spends an enrolment token once its user has a factor; false when another request did first. */
    async finishEnrollment(token: string, { interactionUid, purpose = 'enroll' }: { interactionUid?: string; purpose?: 'enroll' | 'enrolled' } = {}): Promise<{ userId: string; resource: string | null } | null> {
      const [row] = await db
        .delete(mfaChallenges)
        .where(and(eq(mfaChallenges.id, digest(token)), eq(mfaChallenges.purpose, purpose), gt(mfaChallenges.expiresAt, new Date())))
        .returning();
      if (!row || (row.interactionUid ?? undefined) !== interactionUid) return null;
      return { userId: row.userId, resource: row.resource };
    },

    /** Hosted page: the enrolment done, its token now only leads on past the recovery codes on screen. */
    async markEnrolled(token: string): Promise<void> {
      await db.update(mfaChallenges).set({ purpose: 'enrolled' }).where(and(eq(mfaChallenges.id, digest(token)), eq(mfaChallenges.purpose, 'enroll')));
    },

    /** A new secret to enrol, replacing one not yet confirmed; CONFLICT when a factor is on. */
    async begin(user: UserRow): Promise<TotpEnrollment> {
      const key = randomBytes(20);
      const [row] = await db
        .update(users)
        .set({ totpSecret: sealer.seal(key, secretContext(user.id)), totpLastStep: null, updatedAt: new Date() })
        .where(and(eq(users.id, user.id), isNull(users.totpEnabledAt)))
        .returning();
      if (!row) throw new AppError('CONFLICT', 'A second factor is already on: turn it off first');
      return enrollmentOf(row);
    },

    /** The enrolment begun and not yet confirmed, shown again (a hosted page after a wrong code). */
    async pendingEnrollment(userId: string): Promise<TotpEnrollment | null> {
      const user = await freshUser(userId);
      return user.totpSecret && user.totpEnabledAt === null ? enrollmentOf(user) : null;
    },

    /** Turns the factor on with a first code from the app; returns the recovery codes, shown once. */
    async confirm(userId: string, code: string, meta: RequestMeta): Promise<string[]> {
      const user = await freshUser(userId);
      if (user.totpEnabledAt !== null) throw new AppError('CONFLICT', 'A second factor is already on');
      if (!user.totpSecret) throw new AppError('INVALID_INPUT', 'Start enrolment first (me.mfa.totp.begin)');
      const attempt = await limit.begin(user.id, meta, { userId: user.id, metadata: { during: 'enrolment' } });
      // The factor is not on yet, so accept() would refuse: the pending secret is checked directly.
      if (!(await acceptTotp(user, code))) {
        await audit.record({ type: 'mfa_failed', success: false, userId: user.id, reason: 'wrong_code', metadata: { during: 'enrolment' }, ...meta });
        throw wrongCode();
      }
      await attempt.succeeded();
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(users)
          .set({ totpEnabledAt: new Date(), updatedAt: new Date() })
          .where(and(eq(users.id, user.id), isNull(users.totpEnabledAt), eq(users.totpSecret, user.totpSecret!)))
          .returning({ id: users.id });
        if (!row) throw new AppError('CONFLICT', 'Enrolment changed meanwhile: start again');
        const codes = await replaceRecoveryCodes(tx, user.id);
        await audit.record({ type: 'mfa_enabled', success: true, userId: user.id, metadata: { method: 'totp' }, ...meta }, tx);
        return codes;
      });
    },

    /** Turns the factor off: the current password and a code (or a recovery code). */
    async disable(userId: string, input: { currentPassword: string; code: string }, meta: RequestMeta): Promise<{ success: true }> {
      const user = await freshUser(userId);
      if (user.totpEnabledAt === null) throw new AppError('CONFLICT', 'No second factor is on');
      await checked(user, input.code, meta, 'disable', async () => {
        const check = await passwords.verify(input.currentPassword, user.passwordHash);
        if (!check.ok) throw new AppError('INVALID_INPUT', 'Current password is incorrect', { fieldErrors: { currentPassword: ['Incorrect password'] } });
      });
      await db.transaction(async (tx) => {
        await clearFactor(tx, user.id);
        await audit.record({ type: 'mfa_disabled', success: true, userId: user.id, reason: 'user', ...meta }, tx);
      });
      return { success: true };
    },

    /** New recovery codes for a code (or a recovery code); the old ones stop working. */
    async regenerateRecoveryCodes(userId: string, code: string, meta: RequestMeta): Promise<string[]> {
      const user = await freshUser(userId);
      if (user.totpEnabledAt === null) throw new AppError('CONFLICT', 'No second factor is on');
      await checked(user, code, meta, 'regenerate');
      return db.transaction(async (tx) => {
        const codes = await replaceRecoveryCodes(tx, user.id);
        await audit.record({ type: 'mfa_recovery_codes_regenerated', success: true, userId: user.id, ...meta }, tx);
        return codes;
      });
    },

    /** An admin (or the CLI) clears a user's factor; only an actor holding every permission of that user may. */
    async reset(userId: string, actor: Actor): Promise<{ success: true }> {
      const user = await freshUser(userId);
      assertHolds(actor, (await loadAccess(db, user.id)).permissions, 'You can only reset the second factor of users whose permissions you hold');
      await db.transaction(async (tx) => {
        await clearFactor(tx, user.id);
        await audit.record({ type: 'mfa_disabled', success: true, userId: user.id, actorId: actor.userId, reason: 'admin_reset', metadata: { wasEnabled: user.totpEnabledAt !== null }, ...actor.meta }, tx);
      });
      return { success: true };
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;

/** Deletes expired challenges and enrolment tokens. */
export async function purgeMfaChallenges(db: Db): Promise<void> {
  await db.delete(mfaChallenges).where(lt(mfaChallenges.expiresAt, new Date()));
}
