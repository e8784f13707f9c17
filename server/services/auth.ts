import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import type { Config } from '../config.ts';
import { AppError, emailNotVerified, INVALID_CREDENTIALS_MESSAGE } from '../errors.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import type { LoginResult, MfaEnrollment, TokenSet, VerifyResult } from '../common/outputs.ts';
import { BUILT_IN_ROLES, FIRST_PARTY_CLIENT_ID, type Permission } from '../common/permissions.ts';
import type { Audit } from './audit.ts';
import type { MfaAnswer, MfaMethod, MfaService } from './mfa.ts';
import type { Passwords } from './passwords.ts';
import { loadAccess, tokenPermissions, type Access } from './rbac.ts';
import { loadClientAccess } from './clients.ts';
import { describePermissions } from './resources.ts';
import { enqueueMail } from './outbox.ts';
import { endSession, endUserSessions, sessionKeyOf, sessionOfRefreshToken } from './sessions.ts';
import { loadLiveAccess, loadSignedIn } from './signed-in.ts';
import type { AccessClaims, TokenResource, TokenService } from './tokens.ts';
import { findUserByEmail, findUserById, insertUser, loadUser, normalizeEmail, recordLogin } from './users.ts';

export interface AuthDeps {
  config: Pick<Config, 'emailVerification'>;
  db: Db;
  audit: Audit;
  passwords: Passwords;
  tokens: TokenService;
  mfa: MfaService;
  outbox: { kick(): void };
}

/** How a sign-in was made: the factors, as recorded in the audit trail and counted in the metrics. */
export type SignInFactor = 'pwd' | 'pwd+totp' | 'pwd+recovery_code';
export const factorOf = (method: MfaMethod | null): SignInFactor => (method === null ? 'pwd' : `pwd+${method}`);
/** The RFC 8176 methods of a factor: a recovery code is a one-time password too. */
export const amrOfFactor = (factor: SignInFactor): string[] => (factor === 'pwd' ? ['pwd'] : ['pwd', 'otp']);

export interface Bearer {
  claims: AccessClaims & { sid: string };
  user: UserRow;
  access: Access;
}

/** A client acting on its own (client_credentials): its permissions on Gatehouse's API as they are now. */
export interface MachineBearer {
  clientId: string;
  permissions: Permission[];
}

const INACTIVE = { active: false } as const;

export function createAuthService({ config, db, audit, passwords, tokens, mfa, outbox }: AuthDeps) {
  /** The registered resource `identifier`; an unknown one is a 400, before any other work. */
  async function targetOf(identifier: string | undefined): Promise<TokenResource | undefined> {
    if (identifier === undefined) return undefined;
    const found = await tokens.findResource(identifier);
    if (!found) throw new AppError('INVALID_INPUT', 'Not a registered API resource', { fieldErrors: { resource: ['Not a registered API resource'] } });
    return found;
  }

  async function startSession(userId: string, meta: RequestMeta, resource?: TokenResource, factor: SignInFactor = 'pwd'): Promise<TokenSet> {
    const row = await recordLogin(db, userId);
    const issued = await tokens.mint(userId, meta, resource, amrOfFactor(factor));
    return { accessToken: issued.accessToken, refreshToken: issued.refreshToken, tokenType: 'Bearer', expiresIn: issued.expiresIn, user: await loadUser(db, row) };
  }

  /** Tokens for a user who has given every factor, and the login audited. */
  async function signIn(userId: string, meta: RequestMeta, resource: TokenResource | undefined, factor: SignInFactor): Promise<TokenSet> {
    const tokenSet = await startSession(userId, meta, resource, factor);
    try {
      await audit.record({ type: 'login', success: true, userId, metadata: { factor }, ...meta });
    } catch (error) {
      // A sign-in that cannot be audited does not happen: end the session of the tokens never handed out.
      const session = await sessionOfRefreshToken(db, tokenSet.refreshToken);
      if (session) await endSession(db, session.sessionKey);
      throw error;
    }
    return tokenSet;
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
    async register(input: { email: string; password: string; name?: string | undefined }, meta: RequestMeta): Promise<TokenSet | MfaEnrollment> {
      const user = await createAccount(input, meta);
      if (config.emailVerification === 'required') throw emailNotVerified();
      // Under MFA_REQUIRED_ROLES=user a new account enrols before its first tokens.
      return ((await mfa.afterPassword(user)) as MfaEnrollment | null) ?? startSession(user.id, meta);
    },

    createAccount,

    authenticate,

    /** A sign-in that does not go through auth.login (the hosted page): last_login_at and audit. */
    async recordSignIn(userId: string, meta: RequestMeta, context: Record<string, unknown> = {}, factor: SignInFactor = 'pwd'): Promise<void> {
      await recordLogin(db, userId);
      await audit.record({ type: 'login', success: true, userId, metadata: { ...context, factor }, ...meta });
    },

    /** Tokens, or with a second factor on (or required and missing) the challenge to answer first. */
    async login(input: { email: string; password: string; resource?: string | undefined }, meta: RequestMeta): Promise<LoginResult> {
      const resource = await targetOf(input.resource);
      const user = await authenticate(input, meta);
      const next = await mfa.afterPassword(user, { resource: resource?.identifier });
      return next ?? signIn(user.id, meta, resource, 'pwd');
    },

    /** The second step of a sign-in with a factor: the challenge answered, the tokens. */
    async verifyMfa(mfaToken: string, answer: MfaAnswer, meta: RequestMeta): Promise<TokenSet> {
      const { user, resource, method } = await mfa.answer(mfaToken, answer, meta);
      return signIn(user.id, meta, resource === null ? undefined : await targetOf(resource), factorOf(method));
    },

    /** The tokens a sign-in under MFA_REQUIRED_ROLES held back, once its factor is on. */
    async finishEnrollment(enrollmentToken: string, meta: RequestMeta): Promise<TokenSet> {
      const done = await mfa.finishEnrollment(enrollmentToken);
      if (!done) throw new AppError('INVALID_TOKEN', 'Sign in again: this enrolment has expired');
      return signIn(done.userId, meta, done.resource === null ? undefined : await targetOf(done.resource), 'pwd+totp');
    },

    /** A token for `resource` (RFC 8707) from the same session: the refresh token rotates, no password is checked. */
    async refresh(refreshToken: string, meta: RequestMeta, resourceIdentifier?: string): Promise<TokenSet> {
      const resource = await targetOf(resourceIdentifier);
      const result = await tokens.refresh(refreshToken, meta, resource);
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

    /** Of the permissions a client asks for as scopes, those the user holds, with their descriptions. */
    async heldPermissions(userId: string, names: readonly string[]): Promise<Map<string, string | null>> {
      const { granted } = await loadAccess(db, userId);
      return describePermissions(db, names.filter((name) => granted.includes(name)));
    },

    /** A client_credentials token for Gatehouse's API, with what its client's roles grant now and the
     *  token carries (it may have asked for less); null for any other token. */
    async machine(token: string): Promise<MachineBearer | null> {
      const claims = await tokens.verifySignature(token);
      if (!claims || claims.sid !== undefined || claims.sub !== claims.client_id) return null;
      const access = await loadClientAccess(db, claims.client_id);
      return { clientId: claims.client_id, permissions: access.permissions.filter((p) => claims.permissions.includes(p)) };
    },

    /** A token of Gatehouse's API or of a registered resource, reported with the roles and permissions its
     *  user (or client) holds on that resource now, not those it was issued with. */
    async verify(token: string): Promise<VerifyResult> {
      const claims = await tokens.verifySignature(token, { anyAudience: true });
      const resource = claims ? await tokens.findResource(claims.aud) : undefined;
      if (!claims || !resource) return INACTIVE;
      let access: Access | undefined;
      let narrowTo: string | null;
      if (claims.sid !== undefined) {
        access = await loadLiveAccess(db, claims.sub, claims.sid);
        narrowTo = claims.client_id === FIRST_PARTY_CLIENT_ID ? null : (claims.scope ?? '');
      } else {
        if (claims.sub !== claims.client_id) return INACTIVE;
        access = await loadClientAccess(db, claims.client_id);
        narrowTo = claims.permissions.join(' ');
      }
      if (!access) return INACTIVE;
      const permissions = tokenPermissions(access, resource, narrowTo);
      return { active: true, sub: claims.sub, clientId: claims.client_id, scope: claims.scope ?? '', roles: access.roles, permissions, sid: claims.sid ?? null, exp: claims.exp };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
