import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { userRoles, users, type UserRow } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { Profile, User, UserWithProfile } from '../common/outputs.ts';
import { findRoles, loadAccess } from './rbac.ts';

/** The public view of a user: never a hash or a token. */
export function toUser(row: UserRow, roleNames: string[]): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    emailVerified: row.emailVerified,
    isActive: row.isActive,
    roles: roleNames,
    mfaEnabled: row.totpEnabledAt !== null,
    createdAt: row.createdAt.toISOString(),
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
  };
}

export function toUserWithProfile(row: UserRow, roleNames: string[]): UserWithProfile {
  return {
    ...toUser(row, roleNames),
    givenName: row.givenName,
    familyName: row.familyName,
    picture: row.picture,
    locale: row.locale,
    zoneinfo: row.zoneinfo,
  };
}

export async function updateProfile(db: Db, id: string, changes: Partial<Profile>): Promise<UserRow> {
  const [row] = await db
    .update(users)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(users.id, id))
    .returning();
  if (!row) throw new AppError('NOT_FOUND', 'User not found');
  return row;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string | null | undefined;
  roles: string[];
  /** Runs in the insert's transaction (the verification mail's outbox row). */
  onCreated?: ((tx: Db, row: UserRow) => Promise<void>) | undefined;
}

export const emailTaken = (field = 'email') => new AppError('EMAIL_TAKEN', 'An account with this email already exists', { fieldErrors: { [field]: ['Already registered'] } });

/** Inserts a user with roles in one transaction; EMAIL_TAKEN when the address is in use. */
export async function insertUser(db: Db, input: NewUser): Promise<UserRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(users)
      .values({ email: normalizeEmail(input.email), passwordHash: input.passwordHash, name: input.name ?? null })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!row) throw emailTaken();
    await setRoles(tx, row.id, input.roles);
    await input.onCreated?.(tx, row);
    return row;
  });
}

/** Replaces the user's roles with those named; INVALID_INPUT for an unknown one. */
export async function setRoles(db: Db, userId: string, names: readonly string[]): Promise<void> {
  const found = await findRoles(db, names);
  await db.delete(userRoles).where(eq(userRoles.userId, userId));
  if (found.length > 0) await db.insert(userRoles).values(found.map((r) => ({ userId, roleId: r.id })));
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, normalizeEmail(email))).limit(1);
  return row;
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

export async function loadUser(db: Db, row: UserRow): Promise<User> {
  const { roles: roleNames } = await loadAccess(db, row.id);
  return toUser(row, roleNames);
}

export async function recordLogin(db: Db, id: string): Promise<UserRow> {
  const [row] = await db.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, id)).returning();
  if (!row) throw new AppError('INVALID_CREDENTIALS', 'Account no longer exists');
  return row;
}
