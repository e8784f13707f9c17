// A bearer request's user, session liveness and roles in one round trip, read on every request so that a
// logout or a role change applies at the next call. A database function: PGlite plans every statement a
// client sends but keeps a function's plan. A plain select will do once PGlite reuses statement plans.
import { getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users, type UserRow } from '../../db/schema/index.ts';
import { digest } from '../common/digest.ts';
import { UUID } from '../common/inputs.ts';
import { accessOf, type Access } from './rbac.ts';

export interface SignedIn {
  user: UserRow;
  access: Access;
}

function prepare(db: Db) {
  return (
    db
      .select({ signedIn: sql<unknown>`signed_in` })
      .from(sql`gatehouse_signed_in(${sql.placeholder('userId')}, ${sql.placeholder('grantKey')}, ${sql.placeholder('now')}) as signed_in`)
      .prepare('signed_in')
  );
}

interface LookupResult {
  user: Record<string, unknown>;
  sessionAlive: boolean;
  roles: { name: string; permissions: unknown }[];
}

// The users row arrives as JSON by column name; each value is read as Drizzle reads that column.
const userColumns = Object.entries(getTableColumns(users)).map(([key, column]) => ({ key, column }));

function toUserRow(json: Record<string, unknown>): UserRow {
  const row: Record<string, unknown> = {};
  for (const { key, column } of userColumns) {
    const value = json[column.name];
    if (value === undefined) throw new Error(`gatehouse_signed_in returned no ${column.name}`);
    row[key] = value === null ? null : column.mapFromDriverValue(value);
  }
  return row as UserRow;
}

const prepared = new WeakMap<Db, ReturnType<typeof prepare>>();

/** The user `userId` and their access, if the session (grant) `sid` still lives; else undefined. */
export async function loadSignedIn(db: Db, userId: string, sid: string): Promise<SignedIn | undefined> {
  if (!UUID.test(userId)) return undefined;
  let query = prepared.get(db);
  if (!query) prepared.set(db, (query = prepare(db)));
  const [row] = await query.execute({ userId, grantKey: digest(sid), now: new Date().toISOString() });
  // A json value: parsed already by PGlite and postgres-js, though a driver may hand over text.
  const found = (typeof row?.signedIn === 'string' ? JSON.parse(row.signedIn) : row?.signedIn) as LookupResult | null | undefined;
  if (!found || found.sessionAlive !== true) return undefined;
  return { user: toUserRow(found.user), access: accessOf(found.roles) };
}

function prepareAccess(db: Db) {
  return db
    .select({ access: sql<unknown>`access` })
    .from(sql`gatehouse_signed_in_access(${sql.placeholder('userId')}, ${sql.placeholder('grantKey')}, ${sql.placeholder('now')}) as access`)
    .prepare('signed_in_access');
}

const preparedAccess = new WeakMap<Db, ReturnType<typeof prepareAccess>>();

/** The access of an active user `userId` whose session `sid` still lives; else undefined. Lighter than loadSignedIn: no user row. */
export async function loadLiveAccess(db: Db, userId: string, sid: string): Promise<Access | undefined> {
  if (!UUID.test(userId)) return undefined;
  let query = preparedAccess.get(db);
  if (!query) preparedAccess.set(db, (query = prepareAccess(db)));
  const [row] = await query.execute({ userId, grantKey: digest(sid), now: new Date().toISOString() });
  const found = (typeof row?.access === 'string' ? JSON.parse(row.access) : row?.access) as { isActive: boolean; sessionAlive: boolean; roles: LookupResult['roles'] } | null | undefined;
  if (!found || found.isActive !== true || found.sessionAlive !== true) return undefined;
  return accessOf(found.roles);
}
