// What a bearer request needs to know beyond its token, read in one round trip: the user, whether
// the token's session still lives, and the user's roles and permissions. Read on every request, so
// a logout, a disabled account or a role change applies at the caller's next call.
import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import { digest } from '../oidc/adapter.ts';
import { accessOf, type Access } from './rbac.ts';

export interface SignedIn {
  user: UserRow;
  access: Access;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The user `userId` with their access, if the session (grant) `sid` still lives; undefined when
 * either is gone. The session check is the store-level one of the provider's Grant lookup: a Grant
 * row whose expiry has not passed.
 */
export async function loadSignedIn(db: Db, userId: string, sid: string): Promise<SignedIn | undefined> {
  if (!UUID.test(userId)) return undefined;
  const now = new Date().toISOString();
  const [row] = await db
    .select({
      user: getTableColumns(users),
      // Spelled out: Drizzle leaves columns unqualified in a one-table select, and these subqueries
      // must refer to the outer users row.
      sessionAlive: sql<boolean>`exists (
        select 1 from oidc_payloads g
        where g.model = 'Grant' and g.id = ${digest(sid)} and (g.expires_at is null or g.expires_at > ${now}::timestamptz))`,
      roles: sql<unknown>`coalesce((
        select json_agg(json_build_object('name', r.name, 'permissions', r.permissions))
        from user_roles ur join roles r on r.id = ur.role_id
        where ur.user_id = "users"."id"), '[]'::json)`,
    })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!row || row.sessionAlive !== true) return undefined;
  const roleRows = (typeof row.roles === 'string' ? JSON.parse(row.roles) : row.roles) as { name: string; permissions: unknown }[];
  return { user: row.user, access: accessOf(roleRows) };
}
