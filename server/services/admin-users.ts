// Admin management of users. Deletion is hard (the email may register again); the trail keeps id and email.
import { and, count, desc, eq, sql, type SQL } from 'drizzle-orm';
import { isUniqueViolation, type Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { after as afterCursor, encodeCursor, type Cursor } from '../common/cursor.ts';
import type { User, UserPage } from '../common/outputs.ts';
import { BUILT_IN_ROLES } from '../common/permissions.ts';
import type { Audit } from './audit.ts';
import type { Passwords } from './passwords.ts';
import { accessByUser, assertHolds, changedBetween, hasRole, loadAccess, type Actor } from './rbac.ts';
import { voidTokens } from './account-tokens.ts';
import { anotherActiveAdminExists, assertMayGrant, LAST_ADMIN_MESSAGE, lockAdminChanges } from './roles.ts';
import { replacePassword } from './password-change.ts';
import { endUserSessions } from './sessions.ts';
import { emailTaken, findUserById, insertUser, normalizeEmail, setRoles, toUser } from './users.ts';

export interface ListUsersInput {
  search?: string | undefined;
  role?: string | undefined;
  isActive?: boolean | undefined;
  cursor?: Cursor | undefined;
  limit?: number | undefined;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

async function rolesOf(db: Db, ids: string[]): Promise<Map<string, string[]>> {
  return new Map([...(await accessByUser(db, ids))].map(([id, access]) => [id, access.roles]));
}

// Rows walked per row wanted before a filtered page asks the trigram indexes instead: PostgreSQL
// cannot tell a common substring from a rare one, so a bounded walk serves the common filters.
const PAGE_WINDOW_PER_ROW = 250;

export interface UserAdminDeps {
  db: Db;
  audit: Audit;
  passwords: Passwords;
}

export function createUserAdmin({ db, audit, passwords }: UserAdminDeps) {
  async function pageOf(where: SQL | undefined, cursor: Cursor | undefined, count: number): Promise<UserRow[]> {
    const since = cursor ? afterCursor(users.createdAt, users.id, cursor) : undefined;
    if (where) {
      // Aliased as users, so that the filters, written against users, apply to the window.
      const window = db.select().from(users).where(since).orderBy(desc(users.createdAt), desc(users.id)).limit(count * PAGE_WINDOW_PER_ROW).as('users');
      const rows = await db.select().from(window).where(where).orderBy(desc(window.createdAt), desc(window.id)).limit(count);
      // A full page from the window is the page; a short one may just mean the window was too small.
      if (rows.length === count) return rows;
    }
    return db.select().from(users).where(and(where, since)).orderBy(desc(users.createdAt), desc(users.id)).limit(count);
  }

  async function view(row: UserRow, tx: Db = db): Promise<User> {
    return toUser(row, (await rolesOf(tx, [row.id])).get(row.id) ?? []);
  }

  async function lockedUser(tx: Db, id: string): Promise<{ row: UserRow; roleNames: string[] }> {
    const [row] = await tx.select().from(users).where(eq(users.id, id)).for('update');
    if (!row) throw new AppError('NOT_FOUND', 'User not found');
    return { row, roleNames: (await rolesOf(tx, [id])).get(id) ?? [] };
  }

  async function guardLastAdmin(tx: Db, row: UserRow, roleNames: string[]): Promise<void> {
    const isActiveAdmin = row.isActive && roleNames.includes(BUILT_IN_ROLES.admin);
    if (isActiveAdmin && !(await anotherActiveAdminExists(tx, row.id))) throw new AppError('CONFLICT', LAST_ADMIN_MESSAGE);
  }

  return {
    async list(input: ListUsersInput): Promise<UserPage> {
      const limit = input.limit ?? 20;
      const filters: (SQL | undefined)[] = [];
      if (input.search) {
        // Emails are stored lower-cased and names compared lower-cased, in the shapes the trigram indexes serve.
        const pattern = sql`lower(${`%${escapeLike(input.search)}%`})`;
        filters.push(sql`(${users.email} like ${pattern} or lower(${users.name}) like ${pattern})`);
      }
      if (input.isActive !== undefined) filters.push(eq(users.isActive, input.isActive));
      if (input.role) filters.push(hasRole(db, users.id, input.role));
      const where = and(...filters);
      // Rows created during a walk sort before its cursor, so a walk never repeats or skips a row.
      const [page, [totalRow]] = await Promise.all([pageOf(where, input.cursor, limit + 1), db.select({ n: count() }).from(users).where(where)]);
      const rows = page.slice(0, limit);
      const byUser = await rolesOf(db, rows.map((r) => r.id));
      const last = rows.at(-1);
      return {
        items: rows.map((row) => toUser(row, byUser.get(row.id) ?? [])),
        nextCursor: page.length > limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
        total: totalRow?.n ?? 0,
      };
    },

    async get(id: string): Promise<User> {
      const row = await findUserById(db, id);
      if (!row) throw new AppError('NOT_FOUND', 'User not found');
      return view(row);
    },

    async create(input: { email: string; password: string; name?: string | undefined; roles?: string[] | undefined }, actor: Actor): Promise<User> {
      passwords.assertStrong(input.password, [input.email.split('@')[0] ?? '', input.name ?? '']);
      const passwordHash = await passwords.hash(input.password);
      const roleNames = [...new Set(input.roles ?? [BUILT_IN_ROLES.user])];
      return db.transaction(async (tx) => {
        await assertMayGrant(tx, actor, roleNames);
        const row = await insertUser(tx, { email: input.email, passwordHash, name: input.name, roles: roleNames });
        await audit.record({ type: 'user_created', success: true, userId: row.id, actorId: actor.userId, metadata: { email: row.email, roles: roleNames }, ...actor.meta }, tx);
        return view(row, tx);
      });
    },

    /** A new email is unverified unless emailVerified says otherwise; the user's mailed links for the old one are void. */
    async update(
      input: { id: string; name?: string | null | undefined; email?: string | undefined; emailVerified?: boolean | undefined; isActive?: boolean | undefined; roles?: string[] | undefined },
      actor: Actor,
    ): Promise<User> {
      return db.transaction(async (tx) => {
        await lockAdminChanges(tx);
        const { row, roleNames } = await lockedUser(tx, input.id);
        const nextRoles = input.roles ? [...new Set(input.roles)].sort() : roleNames;
        const rolesChanged = input.roles !== undefined && nextRoles.join() !== [...roleNames].sort().join();
        if (rolesChanged) await assertMayGrant(tx, actor, changedBetween(roleNames, nextRoles));
        const losesAdmin = roleNames.includes(BUILT_IN_ROLES.admin) && !nextRoles.includes(BUILT_IN_ROLES.admin);
        const disabling = input.isActive === false && row.isActive;
        if (losesAdmin || disabling) await guardLastAdmin(tx, row, roleNames);

        const email = input.email === undefined ? undefined : normalizeEmail(input.email);
        const emailChanged = email !== undefined && email !== row.email;
        const emailVerified = input.emailVerified ?? (emailChanged ? false : undefined);
        // Whoever sets the address can reset the password: only an actor with all the user's access may.
        if (emailChanged || emailVerified === true) assertHolds(actor, (await loadAccess(tx, row.id)).permissions, 'You can only change the email of users whose permissions you hold');
        const [updated] = await tx
          .update(users)
          .set({
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(emailChanged ? { email } : {}),
            ...(emailVerified !== undefined ? { emailVerified } : {}),
            ...(input.isActive !== undefined ? { isActive: input.isActive } : {}),
            updatedAt: new Date(),
          })
          .where(eq(users.id, row.id))
          .returning()
          .catch((error: unknown) => {
            throw isUniqueViolation(error) ? emailTaken() : error;
          });
        if (emailChanged) {
          await voidTokens(tx, row.id);
          await endUserSessions(tx, row.id);
        }
        if (rolesChanged) {
          await setRoles(tx, row.id, nextRoles);
          await audit.record({ type: 'role_changed', success: true, userId: row.id, actorId: actor.userId, metadata: { from: roleNames, to: nextRoles }, ...actor.meta }, tx);
        }
        if (disabling) await endUserSessions(tx, row.id);
        const changes = Object.keys(input).filter((k) => k !== 'id');
        const emailChange = emailChanged ? { email: { from: row.email, to: email } } : {};
        await audit.record({ type: 'user_updated', success: true, userId: row.id, actorId: actor.userId, metadata: { changes, ...emailChange }, ...actor.meta }, tx);
        return view(updated!, tx);
      });
    },

    /**
     * Sets a user's password, as an operator does for a user who cannot use a mailed link: under
     * the policy; every session, mailed link and MFA challenge ends, as after a reset by link.
     */
    async setPassword(id: string, password: string, actor: Actor): Promise<User> {
      const row = await findUserById(db, id);
      if (!row) throw new AppError('NOT_FOUND', 'User not found');
      // Whoever sets the password takes the account: only an actor with all the user's access may.
      assertHolds(actor, (await loadAccess(db, row.id)).permissions, 'You can only set the password of users whose permissions you hold');
      passwords.assertStrong(password, [row.email.split('@')[0] ?? '', row.name ?? '']);
      const passwordHash = await passwords.hash(password);
      return db.transaction(async (tx) => {
        const updated = await replacePassword(tx, row.id, passwordHash);
        if (!updated) throw new AppError('NOT_FOUND', 'User not found');
        await audit.record({ type: 'password_reset', success: true, userId: row.id, actorId: actor.userId, reason: 'admin_reset', ...actor.meta }, tx);
        return view(updated, tx);
      });
    },

    async remove(id: string, actor: Actor): Promise<{ success: true }> {
      return db.transaction(async (tx) => {
        await lockAdminChanges(tx);
        const { row, roleNames } = await lockedUser(tx, id);
        await guardLastAdmin(tx, row, roleNames);
        await endUserSessions(tx, row.id);
        await tx.delete(users).where(eq(users.id, row.id));
        await audit.record({ type: 'user_deleted', success: true, userId: row.id, actorId: actor.userId, metadata: { email: row.email, roles: roleNames }, ...actor.meta }, tx);
        return { success: true as const };
      });
    },

    async revokeSessions(id: string, actor: Actor): Promise<{ success: true }> {
      const row = await findUserById(db, id);
      if (!row) throw new AppError('NOT_FOUND', 'User not found');
      await endUserSessions(db, row.id);
      await audit.record({ type: 'session_revoked', success: true, userId: row.id, actorId: actor.userId, metadata: { all: true }, ...actor.meta });
      return { success: true as const };
    },
  };
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
