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

function prepare(db: Db) {
  return (
    db
      .select({
        user: getTableColumns(users),
        // Spelled out: Drizzle leaves columns unqualified in a one-table select, and these
        // subqueries must refer to the outer users row.
        sessionAlive: sql<boolean>`exists (
          select 1 from oidc_payloads g
          where g.model = 'Grant' and g.id = ${sql.placeholder('grantKey')}
            and (g.expires_at is null or g.expires_at > ${sql.placeholder('now')}::timestamptz))`,
        roles: sql<unknown>`coalesce((
          select json_agg(json_build_object('name', r.name, 'permissions', r.permissions))
          from user_roles ur join roles r on r.id = ur.role_id
          where ur.user_id = "users"."id"), '[]'::json)`,
      })
      .from(users)
      .where(eq(users.id, sql.placeholder('userId')))
      .limit(1)
      // Built once per database: this runs on every authenticated request, and building the
      // statement cost about a fifth of its time on PGlite.
      .prepare('signed_in')
  );
}

const prepared = new WeakMap<Db, ReturnType<typeof prepare>>();

/**
 * The user `userId` with their access, if the session (grant) `sid` still lives; undefined when
 * either is gone. The session check is the store-level one of the provider's Grant lookup: a Grant
 * row whose expiry has not passed.
 */
export async function loadSignedIn(db: Db, userId: string, sid: string): Promise<SignedIn | undefined> {
  if (!UUID.test(userId)) return undefined;
  let query = prepared.get(db);
  if (!query) prepared.set(db, (query = prepare(db)));
  const [row] = await query.execute({ userId, grantKey: digest(sid), now: new Date().toISOString() });
  if (!row || row.sessionAlive !== true) return undefined;
  const roleRows = (typeof row.roles === 'string' ? JSON.parse(row.roles) : row.roles) as { name: string; permissions: unknown }[];
  return { user: row.user, access: accessOf(roleRows) };
}
