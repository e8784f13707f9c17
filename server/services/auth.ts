import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import type { Config } from '../config.ts';
import { AppError, emailNotVerified, INVALID_CREDENTIALS_MESSAGE } from '../errors.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import type { TokenSet, VerifyResult } from '../common/outputs.ts';
import { BUILT_IN_ROLES } from '../common/permissions.ts';
import type { Audit } from './audit.ts';
import type { Passwords } from './passwords.ts';
import type { Access } from './rbac.ts';
import { enqueueMail } from './outbox.ts';
import { endSession, endUserSessions, sessionKeyOf, sessionOfRefreshToken } from './sessions.ts';
import { loadLiveAccess, loadSignedIn } from './signed-in.ts';
import type { AccessClaims, TokenService } from './tokens.ts';
import { findUserByEmail, findUserById, insertUser, loadUser, normalizeEmail, recordLogin } from './users.ts';

export interface AuthDeps {
  config: Pick<Config, 'emailVerification'>;
  db: Db;
  audit: Audit;
  passwords: Passwords;
  tokens: TokenService;
  outbox: { kick(): void };
}

export interface Bearer {
  claims: AccessClaims & { sid: string };
  user: UserRow;
  access: Access;
}

export function createAuthService({ config, db, audit, passwords, tokens, outbox }: AuthDeps) {
  async function startSession(userId: string, meta: RequestMeta): Promise<TokenSet> {
    const row = await recordLogin(db, userId);
    const issued = await tokens.mint(userId, meta);
    return { accessToken: issued.accessToken, refreshToken: issued.refreshToken, tokenType: 'Bearer', expiresIn: issued.expiresIn, user: await loadUser(db, row) };
  }

  /** The one password check, for auth.login and the hosted page: every failure answers alike, and is audited. */
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
    // A hash of the password as typed, not normalized: replaced by a hash of the normalized one.
    if (check.rehash) await db.update(users).set({ passwordHash: await passwords.hash(input.password) }).where(eq(users.id, user.id));
    // Told only to whoever knows the password, so it reveals nothing about the address.
    if (config.emailVerification === 'required' && !user.emailVerified) {
      await audit.record({ type: 'login_failed', success: false, userId: user.id, reason: 'email_not_verified', metadata: { email, ...context }, ...meta });
      throw emailNotVerified();
    }
    return user;
  }

  /** A new account with the user role, and its verification mail unless verification is off. */
  async function createAccount(input: { email: string; password: string; name?: string | undefined }, meta: RequestMeta, context: Record<string, unknown> = {}): Promise<UserRow> {
    const email = normalizeEmail(input.email);
    passwords.assertStrong(input.password, [email.split('@')[0] ?? '', input.name ?? '']);
    const passwordHash = await passwords.hash(input.password);
    const onCreated = config.emailVerification === 'off' ? undefined : (tx: Db, row: UserRow) => enqueueMail(tx, { kind: 'verify-email', userId: row.id });
    let user;
    try {
      user = await insertUser(db, { email, passwordHash, name: input.name, roles: [BUILT_IN_ROLES.user], onCreated });
    } catch (error) {
      if (error instanceof AppError && error.code === 'EMAIL_TAKEN') {
        await audit.record({ type: 'register', success: false, reason: 'email_taken', metadata: { email, ...context }, ...meta });
      }
      throw error;
    }
    if (onCreated) outbox.kick();
    await audit.record({ type: 'register', success: true, userId: user.id, metadata: context, ...meta });
    return user;
  }

  return {
    /** Under EMAIL_VERIFICATION=required the account is made, and sign-in waits for the mailed link. */
    async register(input: { email: string; password: string; name?: string | undefined }, meta: RequestMeta): Promise<TokenSet> {
      const user = await createAccount(input, meta);
      if (config.emailVerification === 'required') throw emailNotVerified();
      return startSession(user.id, meta);
    },

    createAccount,

    authenticate,

    /** A sign-in that does not go through auth.login (the hosted page): last_login_at and audit. */
    async recordSignIn(userId: string, meta: RequestMeta, context: Record<string, unknown> = {}): Promise<void> {
      await recordLogin(db, userId);
      await audit.record({ type: 'login', success: true, userId, metadata: context, ...meta });
    },

    async login(input: { email: string; password: string }, meta: RequestMeta): Promise<TokenSet> {
      const user = await authenticate(input, meta);
      const tokenSet = await startSession(user.id, meta);
      try {
        await audit.record({ type: 'login', success: true, userId: user.id, ...meta });
      } catch (error) {
        // A sign-in that cannot be audited does not happen: end the session of the tokens never handed out.
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

    /** Ends the session of a refresh token or, without one, of a bearer access token. */
    async logout({ refreshToken, accessToken }: { refreshToken?: string | undefined; accessToken?: string | undefined }, meta: RequestMeta): Promise<{ success: true }> {
      // Always a success: a logout must not tell whether a token was ever valid.
      let session: { sessionKey: string; userId: string | null } | undefined;
      if (refreshToken) session = await sessionOfRefreshToken(db, refreshToken);
      else if (accessToken) {
        const claims = await tokens.verifySignature(accessToken);
        if (claims?.sid) session = { sessionKey: sessionKeyOf(claims.sid), userId: claims.sub };
      }
      if (session && (await endSession(db, session.sessionKey))) {
        await audit.record({ type: 'logout', success: true, userId: session.userId, ...meta });
      }
      return { success: true };
    },

    async logoutAll(userId: string, meta: RequestMeta): Promise<{ success: true }> {
      await endUserSessions(db, userId);
      await audit.record({ type: 'logout', success: true, userId, metadata: { all: true }, ...meta });
      return { success: true };
    },

    /** A valid token of a live session of an active user, or null; never throws an AppError. */
    async bearer(token: string): Promise<Bearer | null> {
      const claims = await tokens.verifySignature(token);
      if (!claims?.sid) return null;
      const signedIn = await loadSignedIn(db, claims.sub, claims.sid);
      if (!signedIn?.user.isActive) return null;
      return { claims: claims as Bearer['claims'], ...signedIn };
    },

    /** A user's token reports the roles and permissions the user holds now, not those it was issued with. */
    async verify(token: string): Promise<VerifyResult> {
      const claims = await tokens.verifySignature(token);
      if (!claims) return { active: false };
      let { roles, permissions } = claims;
      if (claims.sid !== undefined) {
        const access = await loadLiveAccess(db, claims.sub, claims.sid);
        if (!access) return { active: false };
        ({ roles, permissions } = access);
      }
      return { active: true, sub: claims.sub, clientId: claims.client_id, scope: claims.scope ?? '', roles, permissions, sid: claims.sid ?? null, exp: claims.exp };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
