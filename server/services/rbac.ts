import { and, eq, exists, inArray, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { roles, userRoles } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { isBuiltInPermission, PERMISSIONS, type Permission } from '../common/permissions.ts';

export interface Access {
  roles: string[];
  /** The permissions of Gatehouse's own API. */
  permissions: Permission[];
  /** Every permission the roles grant, of any resource. */
  granted: string[];
}

/** Each user's role names and the union of their roles' permissions, both sorted. */
export async function accessByUser(db: Db, userIds: readonly string[]): Promise<Map<string, Access>> {
  const rows = userIds.length === 0
    ? []
    : await db
        .select({ userId: userRoles.userId, name: roles.name, permissions: roles.permissions })
        .from(userRoles)
        .innerJoin(roles, eq(roles.id, userRoles.roleId))
        .where(inArray(userRoles.userId, [...userIds]));
  return new Map(userIds.map((id) => [id, accessOf(rows.filter((row) => row.userId === id))]));
}

export async function loadAccess(db: Db, userId: string): Promise<Access> {
  return (await accessByUser(db, [userId])).get(userId)!;
}

/** Access from a user's (or a client's) roles as stored. */
export function accessOf(rows: { name: string; permissions: unknown }[]): Access {
  const granted = new Set<string>();
  for (const row of rows) {
    if (!Array.isArray(row.permissions)) continue;
    for (const p of row.permissions) if (typeof p === 'string') granted.add(p);
  }
  const all = [...granted].sort();
  return { roles: rows.map((r) => r.name).sort(), permissions: all.filter(isBuiltInPermission), granted: all };
}

export async function findRoles(db: Db, names: readonly string[]): Promise<{ id: string; name: string }[]> {
  if (names.length === 0) return [];
  const found = await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.name, [...names]));
  const missing = names.filter((name) => !found.some((r) => r.name === name));
  if (missing.length > 0) throw new AppError('INVALID_INPUT', 'Unknown role', { fieldErrors: { roles: missing.map((m) => `Unknown role: ${m}`) } });
  return found;
}

export function hasRole(db: Db, userId: AnyColumn, roleName: string): SQL {
  return exists(
    db
      .select({ one: sql`1` })
      .from(userRoles)
      .innerJoin(roles, eq(roles.id, userRoles.roleId))
      .where(and(eq(userRoles.userId, userId), eq(roles.name, roleName))),
  );
}

/** Who makes an admin change: a signed-in user, a client with its roles, or the operator. */
export interface Actor {
  /** The signed-in user; null for the operator (the CLI, start-up) and for a client, which `meta.actorClientId` names. */
  userId: string | null;
  /** Every permission the actor holds, of any resource. */
  permissions: readonly string[];
  meta: RequestMeta;
}

export function operator(meta: RequestMeta = { ip: null, userAgent: 'gatehouse-cli' }): Actor {
  return { userId: null, permissions: PERMISSIONS, meta };
}

/** Whether the actor holds `permission`. Whoever manages resources may define any permission of a
 *  registered resource, so it holds those too; Gatehouse's own permissions must be held themselves. */
export function holds(actor: Actor, permission: string): boolean {
  if (actor.permissions.includes(permission)) return true;
  return !isBuiltInPermission(permission) && actor.permissions.includes('resources:manage');
}

/** No one hands out more than they hold: FORBIDDEN unless the actor holds every one of `permissions`. */
export function assertHolds(actor: Actor, permissions: Iterable<unknown>, message: string): void {
  for (const permission of permissions) {
    if (typeof permission !== 'string' || !holds(actor, permission)) throw new AppError('FORBIDDEN', message);
  }
}

/** A token's permissions on its resource: what its subject holds there and, when `narrowTo` is given
 *  (a third-party client's scopes), only those it names. Without a resource (a userinfo token), none. */
export function tokenPermissions(access: Access, resource: { permissions: ReadonlySet<string> | null } | undefined, narrowTo: string | null): string[] {
  if (!resource) return [];
  const held = permissionsOn(access, resource.permissions);
  if (narrowTo === null) return held;
  const scopes = new Set(narrowTo.split(' '));
  return held.filter((p) => scopes.has(p));
}

/** The granted permissions that belong to a resource, given its permission names (Gatehouse's own when null). */
export function permissionsOn(access: Access, resourcePermissions: ReadonlySet<string> | null): string[] {
  return resourcePermissions ? access.granted.filter((p) => resourcePermissions.has(p)) : access.permissions;
}

/** What is in one of `before` and `after` but not the other: what a change grants or takes away. */
export function changedBetween<T>(before: Iterable<T>, after: Iterable<T>): T[] {
  const [was, is] = [new Set(before), new Set(after)];
  return [...[...is].filter((item) => !was.has(item)), ...[...was].filter((item) => !is.has(item))];
}
