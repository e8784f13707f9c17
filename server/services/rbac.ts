// Permissions are a closed catalogue: a typo in requirePermission('...') fails to compile.
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { roles, userRoles } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { RequestMeta } from './audit.ts';

export const PERMISSIONS = ['users:read', 'users:write', 'users:delete', 'roles:manage', 'audit:read', 'clients:manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const BUILT_IN_ROLES = { admin: 'admin', user: 'user' } as const;

export interface Access {
  roles: string[];
  permissions: Permission[];
}

const known = new Set<string>(PERMISSIONS);

/** The user's role names and the union of their roles' permissions, both sorted. */
export async function loadAccess(db: Db, userId: string): Promise<Access> {
  const rows = await db
    .select({ name: roles.name, permissions: roles.permissions })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(userRoles.userId, userId));
  return accessOf(rows);
}

/** Access from a user's roles as stored; permissions outside the catalogue are ignored. */
export function accessOf(rows: { name: string; permissions: unknown }[]): Access {
  const permissions = new Set<Permission>();
  for (const row of rows) {
    if (!Array.isArray(row.permissions)) continue;
    for (const p of row.permissions) if (typeof p === 'string' && known.has(p)) permissions.add(p as Permission);
  }
  return { roles: rows.map((r) => r.name).sort(), permissions: [...permissions].sort() };
}

/** Who makes an admin change: a signed-in user with their permissions, or the operator. */
export interface Actor {
  /** The signed-in user; null for the operator (the CLI, start-up). */
  userId: string | null;
  /** What the actor holds, and so all it may hand out. */
  permissions: readonly Permission[];
  meta: RequestMeta;
}

/** The operator, at the CLI or at start-up: holds every permission. */
export function operator(meta: RequestMeta = { ip: null, userAgent: 'gatehouse-cli' }): Actor {
  return { userId: null, permissions: PERMISSIONS, meta };
}

/**
 * No one hands out more than they hold: FORBIDDEN unless the actor holds every one of
 * `permissions` (those of a role it grants or removes, or puts into a role or takes out).
 */
export function assertHolds(actor: Actor, permissions: Iterable<unknown>, message: string): void {
  for (const permission of permissions) {
    if (!actor.permissions.includes(permission as Permission)) throw new AppError('FORBIDDEN', message);
  }
}

/** What is in one of `before` and `after` but not the other: what a change grants or takes away. */
export function changedBetween<T>(before: Iterable<T>, after: Iterable<T>): T[] {
  const [was, is] = [new Set(before), new Set(after)];
  return [...[...is].filter((item) => !was.has(item)), ...[...was].filter((item) => !is.has(item))];
}
