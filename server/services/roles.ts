import { and, count, eq, inArray, ne } from 'drizzle-orm';
import { isUniqueViolation, type Db } from '../../db/client.ts';
import { roles, userRoles, users, type RoleRow } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { RoleView } from '../common/outputs.ts';
import { BUILT_IN_ROLES, PERMISSIONS } from '../common/permissions.ts';
import type { Audit } from './audit.ts';
import { assertHolds, changedBetween, hasRole, type Actor } from './rbac.ts';
import { assertPermissionsExist } from './resources.ts';

function toRoleView(row: RoleRow, userCount: number): RoleView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    permissions: [...row.permissions].sort(),
    builtIn: row.builtIn,
    userCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Serializes every change that could leave no active admin (two admins demoting each other at once).
 *  Call first thing inside the transaction. */
export async function lockAdminChanges(tx: Db): Promise<void> {
  await tx.select({ id: roles.id }).from(roles).where(eq(roles.name, BUILT_IN_ROLES.admin)).for('update');
}

export async function anotherActiveAdminExists(tx: Db, userId: string | null): Promise<boolean> {
  const [row] = await tx
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.isActive, true), userId ? ne(users.id, userId) : undefined, hasRole(tx, users.id, BUILT_IN_ROLES.admin)));
  return (row?.n ?? 0) > 0;
}

export const LAST_ADMIN_MESSAGE = 'There must always be at least one active admin';

const CANNOT_SHAPE = 'You can only add to or take from a role the permissions you hold';
const CANNOT_GRANT = 'You can only grant or remove roles whose permissions you hold';

/** FORBIDDEN unless the actor holds every permission of each named role. */
export async function assertMayGrant(tx: Db, actor: Actor, roleNames: readonly string[]): Promise<void> {
  if (roleNames.length === 0) return;
  const rows = await tx.select({ permissions: roles.permissions }).from(roles).where(inArray(roles.name, [...roleNames]));
  assertHolds(actor, rows.flatMap((row) => row.permissions), CANNOT_GRANT);
}

export function createRoleAdmin({ db, audit }: { db: Db; audit: Audit }) {
  async function find(tx: Db, id: string): Promise<RoleRow> {
    const [row] = await tx.select().from(roles).where(eq(roles.id, id)).limit(1);
    if (!row) throw new AppError('NOT_FOUND', 'Role not found');
    return row;
  }

  async function usersOf(tx: Db, roleId: string): Promise<number> {
    const [row] = await tx.select({ n: count() }).from(userRoles).where(eq(userRoles.roleId, roleId));
    return row?.n ?? 0;
  }

  return {
    async list(): Promise<RoleView[]> {
      const rows = await db.select().from(roles).orderBy(roles.name);
      const counts = await db.select({ roleId: userRoles.roleId, n: count() }).from(userRoles).groupBy(userRoles.roleId);
      return rows.map((row) => toRoleView(row, counts.find((c) => c.roleId === row.id)?.n ?? 0));
    },

    async create(input: { name: string; description?: string | null | undefined; permissions: string[] }, actor: Actor): Promise<RoleView> {
      assertHolds(actor, input.permissions, CANNOT_SHAPE);
      return db.transaction(async (tx) => {
        await assertPermissionsExist(tx, input.permissions);
        const [row] = await tx
          .insert(roles)
          .values({ name: input.name, description: input.description ?? null, permissions: [...new Set(input.permissions)].sort() })
          .onConflictDoNothing({ target: roles.name })
          .returning();
        if (!row) throw new AppError('CONFLICT', 'A role with this name already exists', { fieldErrors: { name: ['Already exists'] } });
        await audit.record({ type: 'role_changed', success: true, actorId: actor.userId, metadata: { action: 'created', role: row.name, permissions: row.permissions }, ...actor.meta }, tx);
        return toRoleView(row, 0);
      });
    },

    async update(
      input: { id: string; name?: string | undefined; description?: string | null | undefined; permissions?: string[] | undefined },
      actor: Actor,
    ): Promise<RoleView> {
      return db.transaction(async (tx) => {
        const row = await find(tx, input.id);
        if (row.builtIn && input.name !== undefined && input.name !== row.name) {
          throw new AppError('CONFLICT', 'Built-in roles cannot be renamed');
        }
        const permissions = input.permissions && [...new Set(input.permissions)].sort();
        if (permissions) {
          assertHolds(actor, changedBetween<string>(row.permissions, permissions), CANNOT_SHAPE);
          await assertPermissionsExist(tx, changedBetween<string>(row.permissions, permissions).filter((p) => permissions.includes(p)));
        }
        // The admin role holds every permission of Gatehouse's API by definition.
        if (row.name === BUILT_IN_ROLES.admin && permissions && !PERMISSIONS.every((p) => permissions.includes(p))) {
          throw new AppError('CONFLICT', 'The admin role always holds every permission of the Gatehouse API');
        }
        const [updated] = await tx
          .update(roles)
          .set({
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(permissions ? { permissions } : {}),
            updatedAt: new Date(),
          })
          .where(eq(roles.id, row.id))
          .returning()
          .catch((error: unknown) => {
            throw isUniqueViolation(error) ? new AppError('CONFLICT', 'A role with this name already exists', { fieldErrors: { name: ['Already exists'] } }) : error;
          });
        await audit.record(
          {
            type: 'role_changed',
            success: true,
            actorId: actor.userId,
            metadata: { action: 'updated', role: updated!.name, previous: { name: row.name, permissions: row.permissions }, permissions: updated!.permissions },
            ...actor.meta,
          },
          tx,
        );
        return toRoleView(updated!, await usersOf(tx, row.id));
      });
    },

    async remove(id: string, actor: Actor): Promise<{ success: true }> {
      return db.transaction(async (tx) => {
        const row = await find(tx, id);
        if (row.builtIn) throw new AppError('CONFLICT', 'Built-in roles cannot be deleted');
        assertHolds(actor, row.permissions as string[], CANNOT_SHAPE);
        await tx.delete(roles).where(eq(roles.id, id));
        await audit.record({ type: 'role_changed', success: true, actorId: actor.userId, metadata: { action: 'deleted', role: row.name }, ...actor.meta }, tx);
        return { success: true as const };
      });
    },
  };
}

export type RoleAdmin = ReturnType<typeof createRoleAdmin>;
