// What a bearer request needs to know beyond its token, read in one round trip: the user, whether
// the token's session still lives, and the user's roles and permissions. Read on every request, so
// a logout, a disabled account or a role change applies at the caller's next call. The statement
// lives in a database function (migration 0007) so that PGlite, which plans every statement a
// client sends, plans it once per connection; that halved the lookup there.
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import { digest } from '../oidc/adapter.ts';
import { accessOf, type Access } from './rbac.ts';

export interface SignedIn {
  user: UserRow;
  access: Access;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// gatehouse_signed_in (migration 0007) returns the users row's columns under their own names, each
// read here as the table's column would be, so the row maps to a UserRow as a select from users does.
const userColumns = getTableColumns(users);
const userFields = Object.fromEntries(
  Object.entries(userColumns).map(([key, column]) => [key, sql`${sql.identifier(column.name)}`.mapWith(column)]),
) as { [K in keyof UserRow]: SQL<UserRow[K]> };

function prepare(db: Db) {
  return (
    db
      .select({ user: userFields, sessionAlive: sql<boolean>`session_alive`, roles: sql<unknown>`roles` })
      .from(sql`gatehouse_signed_in(${sql.placeholder('userId')}, ${sql.placeholder('grantKey')}, ${sql.placeholder('now')})`)
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
