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

/**
 * A bearer lookup: the database function `fn` of (user id, grant key, now), one JSON value, its
 * statement prepared once per database. Undefined for a malformed user id or no such user.
 */
function lookup<T>(fn: 'gatehouse_signed_in' | 'gatehouse_signed_in_access') {
  const prepare = (db: Db) =>
    db
      .select({ value: sql<unknown>`value` })
      .from(sql`${sql.raw(fn)}(${sql.placeholder('userId')}, ${sql.placeholder('grantKey')}, ${sql.placeholder('now')}) as value`)
      .prepare(fn);
  const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
  return async (db: Db, userId: string, sid: string): Promise<T | undefined> => {
    if (!UUID.test(userId)) return undefined;
    let query = statements.get(db);
    if (!query) statements.set(db, (query = prepare(db)));
    const [row] = await query.execute({ userId, grantKey: digest(sid), now: new Date().toISOString() });
    // A json value: parsed already by PGlite and postgres-js, though a driver may hand over text.
    const value = typeof row?.value === 'string' ? JSON.parse(row.value) : row?.value;
    return (value ?? undefined) as T | undefined;
  };
}

const signedInLookup = lookup<LookupResult>('gatehouse_signed_in');
const accessLookup = lookup<{ isActive: boolean; sessionAlive: boolean; roles: LookupResult['roles'] }>('gatehouse_signed_in_access');

/** The user `userId` and their access, if the session (grant) `sid` still lives; else undefined. */
export async function loadSignedIn(db: Db, userId: string, sid: string): Promise<SignedIn | undefined> {
  const found = await signedInLookup(db, userId, sid);
  if (!found || found.sessionAlive !== true) return undefined;
  return { user: toUserRow(found.user), access: accessOf(found.roles) };
}

/** The access of an active user `userId` whose session `sid` still lives; else undefined. Lighter than loadSignedIn: no user row. */
export async function loadLiveAccess(db: Db, userId: string, sid: string): Promise<Access | undefined> {
  const found = await accessLookup(db, userId, sid);
  if (!found || found.isActive !== true || found.sessionAlive !== true) return undefined;
  return accessOf(found.roles);
}
