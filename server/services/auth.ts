// Sign-up, sign-in, refresh, logout and token verification for Gatehouse's own API.
import type { Config } from '../config.ts';
import type { Db } from '../../db/client.ts';
import { AppError, INVALID_CREDENTIALS_MESSAGE } from '../errors.ts';
import type { AccessClaims, TokenService } from '../oidc/tokens.ts';
import type { Audit, RequestMeta } from './audit.ts';
import { checkPasswordPolicy, normalizePassword, serviceWords, type Passwords } from './passwords.ts';
import { BUILT_IN_ROLES } from './rbac.ts';
import { endSession, endUserSessions, sessionKeyOf, sessionOfRefreshToken } from './sessions.ts';
import { eq } from 'drizzle-orm';
import { users, type UserRow } from '../../db/schema/index.ts';
import { findUserByEmail, findUserById, insertUser, loadUser, normalizeEmail, recordLogin } from './users.ts';
import type { TokenSet, VerifyResult } from '../views.ts';

export interface AuthDeps {
  config: Config;
  db: Db;
  audit: Audit;
  passwords: Passwords;
  tokens: TokenService;
}

export function createAuthService({ config, db, audit, passwords, tokens }: AuthDeps) {
  async function startSession(userId: string, meta: RequestMeta): Promise<TokenSet> {
    const row = await recordLogin(db, userId);
    const issued = await tokens.mint(userId, meta);
    return { accessToken: issued.accessToken, refreshToken: issued.refreshToken, tokenType: 'Bearer', expiresIn: issued.expiresIn, user: await loadUser(db, row) };
  }

  /**
   * The one password check, for auth.login and the hosted login page alike. Wrong password,
   * unknown email and disabled account fail the same way, in the same time, and are audited.
   */
  async function authenticate(input: { email: string; password: string }, meta: RequestMeta, context: Record<string, unknown> = {}): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    const user = await findUserByEmail(db, email);
    // An unknown email costs the same bcrypt work, so the answer's timing tells nothing.
    const check = user ? await passwords.verify(input.password, user.passwordHash) : await passwords.verifyDummy(input.password);
    if (!user || !check.ok || !user.isActive) {
      const reason = !user ? 'unknown_email' : !check.ok ? 'wrong_password' : 'account_disabled';
      await audit.record({ type: 'login_failed', success: false, userId: user?.id ?? null, reason, metadata: { email, ...context }, ...meta });
      throw new AppError('INVALID_CREDENTIALS', INVALID_CREDENTIALS_MESSAGE);
    }
    // A hash made before passwords were normalized: replaced by one of the normalized password.
    if (check.rehash) await db.update(users).set({ passwordHash: await passwords.hash(input.password) }).where(eq(users.id, user.id));
    return user;
  }

  /** A sign-in that does not go through auth.login (the hosted page): last_login_at and audit. */
  async function recordSignIn(userId: string, meta: RequestMeta, context: Record<string, unknown> = {}): Promise<void> {
    await recordLogin(db, userId);
    await audit.record({ type: 'login', success: true, userId, metadata: context, ...meta });
  }

  const service = serviceWords(config.publicUrl);
  /** WEAK_PASSWORD, with the reasons under `field`, unless the password meets the policy. */
  function assertStrong(password: string, personal: string[], field = 'password'): void {
    const reasons = checkPasswordPolicy(password, config.passwordPolicy, { personal, service });
    if (reasons.length > 0) throw new AppError('WEAK_PASSWORD', 'Password does not meet the policy', { fieldErrors: { [field]: reasons } });
  }

  return {
    assertStrong,

    async register(input: { email: string; password: string; name?: string | undefined }, meta: RequestMeta): Promise<TokenSet> {
      const email = normalizeEmail(input.email);
      assertStrong(input.password, [email.split('@')[0] ?? '', input.name ?? '']);
      const passwordHash = await passwords.hash(input.password);
      let user;
      try {
        user = await insertUser(db, { email, passwordHash, name: input.name, roles: [BUILT_IN_ROLES.user] });
      } catch (error) {
        if (error instanceof AppError && error.code === 'EMAIL_TAKEN') {
          await audit.record({ type: 'register', success: false, reason: 'email_taken', metadata: { email }, ...meta });
        }
        throw error;
      }
      await audit.record({ type: 'register', success: true, userId: user.id, ...meta });
      return startSession(user.id, meta);
    },

    authenticate,
    recordSignIn,

    async login(input: { email: string; password: string }, meta: RequestMeta): Promise<TokenSet> {
      const user = await authenticate(input, meta);
      const tokenSet = await startSession(user.id, meta);
      try {
        await audit.record({ type: 'login', success: true, userId: user.id, ...meta });
      } catch (error) {
        // Audit-failure policy: a sign-in that cannot be recorded does not happen. The tokens
        // were never handed out; end the session they belong to.
        const session = await sessionOfRefreshToken(db, tokenSet.refreshToken);
        if (session) await endSession(db, session.sessionKey);
        throw error;
      }
      return tokenSet;
    },

    async refresh(refreshToken: string, meta: RequestMeta): Promise<TokenSet> {
      const result = await tokens.refresh(refreshToken, meta);
      if (!result.ok) throw new AppError('INVALID_TOKEN', 'Invalid or expired refresh token');
      const user = await findUserById(db, result.userId);
      if (!user) throw new AppError('INVALID_TOKEN', 'Invalid or expired refresh token');
      return { ...result.tokens, tokenType: 'Bearer', user: await loadUser(db, user) };
    },

    async logout(refreshToken: string, meta: RequestMeta): Promise<{ success: true }> {
      // Always a success: a logout must not tell whether a token was ever valid.
      const session = await sessionOfRefreshToken(db, refreshToken);
      if (session) {
        await endSession(db, session.sessionKey);
        await audit.record({ type: 'logout', success: true, userId: session.userId, ...meta });
      }
      return { success: true };
    },

    /** Ends every session of the user, the caller's own included. */
    async logoutAll(userId: string, meta: RequestMeta): Promise<{ success: true }> {
      await endUserSessions(db, userId);
      await audit.record({ type: 'logout', success: true, userId, metadata: { all: true }, ...meta });
      return { success: true };
    },

    /** Requires the current password; ends every session but the caller's own (`sid`). */
    async changePassword(
      userId: string,
      sid: string,
      input: { currentPassword: string; newPassword: string },
      meta: RequestMeta,
    ): Promise<{ success: true }> {
      const user = await findUserById(db, userId);
      if (!user) throw new AppError('INVALID_TOKEN', 'Sign in required');
      if (!(await passwords.verify(input.currentPassword, user.passwordHash)).ok) {
        await audit.record({ type: 'password_changed', success: false, userId, reason: 'wrong_current_password', ...meta });
        throw new AppError('INVALID_INPUT', 'Current password is incorrect', { fieldErrors: { currentPassword: ['Incorrect password'] } });
      }
      if (normalizePassword(input.newPassword) === normalizePassword(input.currentPassword)) {
        throw new AppError('WEAK_PASSWORD', 'Password does not meet the policy', { fieldErrors: { newPassword: ['Must differ from the current password'] } });
      }
      assertStrong(input.newPassword, [user.email.split('@')[0] ?? '', user.name ?? ''], 'newPassword');
      const passwordHash = await passwords.hash(input.newPassword);
      await db.transaction(async (tx) => {
        const now = new Date();
        await tx.update(users).set({ passwordHash, passwordChangedAt: now, updatedAt: now }).where(eq(users.id, userId));
        await endUserSessions(tx, userId, { except: sessionKeyOf(sid) });
        await audit.record({ type: 'password_changed', success: true, userId, ...meta }, tx);
      });
      return { success: true };
    },

    async verify(token: string): Promise<VerifyResult> {
      const claims = await tokens.verify(token);
      if (!claims) return { active: false };
      return toVerifyResult(claims);
    },
  };
}

export function toVerifyResult(claims: AccessClaims): VerifyResult {
  return {
    active: true,
    sub: claims.sub,
    clientId: claims.client_id,
    scope: claims.scope ?? '',
    roles: claims.roles,
    permissions: claims.permissions,
    sid: claims.sid ?? null,
    exp: claims.exp,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
