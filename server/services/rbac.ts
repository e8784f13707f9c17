// Permissions are a closed catalogue: a typo in requirePermission('...') fails to compile.
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { roles, userRoles } from '../../db/schema/index.ts';

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
