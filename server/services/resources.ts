// API resources (RFC 8707): the services behind Gatehouse, each an audience with its own permissions.
// Gatehouse's own API is built in: its permissions are the code's catalogue, and it cannot change.
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { isUniqueViolation, type Db } from '../../db/client.ts';
import { apiPermissions, apiResources, roles, type ApiResourceRow } from '../../db/schema/index.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { ResourceView } from '../common/outputs.ts';
import { isBuiltInPermission, OIDC_SCOPES, PERMISSION_DESCRIPTIONS, PERMISSIONS } from '../common/permissions.ts';
import type { Audit } from './audit.ts';
import type { Actor } from './rbac.ts';

export interface PermissionInput {
  name: string;
  description?: string | null | undefined;
}

export interface NewResource {
  identifier: string;
  name: string;
  permissions: PermissionInput[];
  accessTokenTtl?: number | null | undefined;
}

export type ResourceChanges = Partial<Omit<NewResource, 'identifier'>>;

/** A registered resource as the token machinery needs it. */
export interface Resource {
  identifier: string;
  name: string;
  accessTokenTtl: number | null;
  permissions: Map<string, string | null>;
}

const BUILT_IN_MESSAGE = "Gatehouse's own API cannot be changed";
const RESERVED = new Set<string>(OIDC_SCOPES);

/** The resource `identifier` with its permissions, or undefined: one query. */
export async function findResource(db: Db, identifier: string): Promise<Resource | undefined> {
  const rows = await db
    .select({ resource: apiResources, permission: { name: apiPermissions.name, description: apiPermissions.description } })
    .from(apiResources)
    .leftJoin(apiPermissions, eq(apiPermissions.resource, apiResources.identifier))
    .where(eq(apiResources.identifier, identifier));
  const [first] = rows;
  if (!first) return undefined;
  const permissions = new Map<string, string | null>();
  for (const { permission } of rows) if (permission) permissions.set(permission.name, permission.description);
  return { identifier, name: first.resource.name, accessTokenTtl: first.resource.accessTokenTtl, permissions };
}

/** Descriptions of the named permissions, of any resource; names that are none are left out. */
export async function describePermissions(db: Db, names: readonly string[], { lock = false } = {}): Promise<Map<string, string | null>> {
  const described = new Map<string, string | null>();
  const others: string[] = [];
  for (const name of names) {
    if (isBuiltInPermission(name)) described.set(name, PERMISSION_DESCRIPTIONS[name]);
    else others.push(name);
  }
  if (others.length > 0) {
    const query = db.select({ name: apiPermissions.name, description: apiPermissions.description }).from(apiPermissions).where(inArray(apiPermissions.name, others));
    const rows = await (lock ? query.for('share') : query);
    for (const row of rows) described.set(row.name, row.description);
  }
  return described;
}

/** INVALID_INPUT naming every permission that no resource defines; inside a transaction, the
 *  permissions found cannot be dropped by a resource change before it commits. */
export async function assertPermissionsExist(tx: Db, names: readonly string[]): Promise<void> {
  const described = await describePermissions(tx, names, { lock: true });
  const unknown = names.filter((name) => !described.has(name));
  if (unknown.length > 0) {
    throw new AppError('INVALID_INPUT', 'Unknown permission', { fieldErrors: { permissions: unknown.map((name) => `Unknown permission: ${name}`) } });
  }
}

function builtInView(config: Pick<Config, 'apiAudience'>): ResourceView {
  return {
    identifier: config.apiAudience,
    name: 'Gatehouse API',
    permissions: PERMISSIONS.map((name) => ({ name, description: PERMISSION_DESCRIPTIONS[name] })),
    accessTokenTtl: null,
    builtIn: true,
    createdAt: null,
    updatedAt: null,
  };
}

function toView(row: ApiResourceRow, permissions: { name: string; description: string | null }[]): ResourceView {
  return {
    identifier: row.identifier,
    name: row.name,
    permissions: permissions.toSorted((a, b) => a.name.localeCompare(b.name)),
    accessTokenTtl: row.accessTokenTtl,
    builtIn: false,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function conflict(message: string, field: string): AppError {
  return new AppError('CONFLICT', message, { fieldErrors: { [field]: [message] } });
}

/** Names Gatehouse keeps for itself, and names given twice, fail before any row is touched. */
function checkNames(permissions: readonly PermissionInput[]): void {
  const seen = new Set<string>();
  for (const { name } of permissions) {
    if (isBuiltInPermission(name) || RESERVED.has(name)) throw conflict(`The permission name ${name} is reserved by Gatehouse`, 'permissions');
    if (seen.has(name)) throw new AppError('INVALID_INPUT', `The permission ${name} is listed twice`, { fieldErrors: { permissions: [`Listed twice: ${name}`] } });
    seen.add(name);
  }
}

/** Inserts a resource's permissions; a name another resource holds is CONFLICT. */
async function insertPermissions(tx: Db, identifier: string, permissions: readonly PermissionInput[]): Promise<void> {
  if (permissions.length === 0) return;
  const names = permissions.map((p) => p.name);
  const taken = await tx.select({ name: apiPermissions.name }).from(apiPermissions).where(inArray(apiPermissions.name, names));
  if (taken.length > 0) throw conflict(`The permission ${taken.map((t) => t.name).join(', ')} belongs to another resource`, 'permissions');
  await tx
    .insert(apiPermissions)
    .values(permissions.map((p) => ({ name: p.name, resource: identifier, description: p.description ?? null })))
    .catch((error: unknown) => {
      throw isUniqueViolation(error) ? conflict('A permission name belongs to another resource', 'permissions') : error;
    });
}

/** Takes the named permissions out of every role that holds them; the roles' names, for the audit. */
async function stripFromRoles(tx: Db, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const list = sql`ARRAY[${sql.join(names.map((name) => sql`${name}`), sql`, `)}]::text[]`;
  const changed = await tx
    .update(roles)
    .set({ permissions: sql`${roles.permissions} - ${list}`, updatedAt: new Date() })
    .where(sql`jsonb_exists_any(${roles.permissions}, ${list})`)
    .returning({ name: roles.name });
  return changed.map((row) => row.name).sort();
}

export function createResourceAdmin({ config, db, audit }: { config: Pick<Config, 'apiAudience'>; db: Db; audit: Audit }) {
  const record = (tx: Db, actor: Actor, metadata: Record<string, unknown>) =>
    audit.record({ type: 'resource_changed', success: true, actorId: actor.userId, metadata, ...actor.meta }, tx);

  async function lockedRow(tx: Db, identifier: string): Promise<ApiResourceRow> {
    if (identifier === config.apiAudience) throw new AppError('CONFLICT', BUILT_IN_MESSAGE);
    const [row] = await tx.select().from(apiResources).where(eq(apiResources.identifier, identifier)).for('update').limit(1);
    if (!row) throw new AppError('NOT_FOUND', 'API resource not found');
    return row;
  }

  return {
    async list(): Promise<ResourceView[]> {
      const [rows, permissions] = await Promise.all([
        db.select().from(apiResources).orderBy(asc(apiResources.identifier)),
        db.select().from(apiPermissions),
      ]);
      return [builtInView(config), ...rows.map((row) => toView(row, permissions.filter((p) => p.resource === row.identifier)))];
    },

    async create(input: NewResource, actor: Actor): Promise<ResourceView> {
      if (input.identifier === config.apiAudience) throw conflict(BUILT_IN_MESSAGE, 'identifier');
      checkNames(input.permissions);
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(apiResources)
          .values({ identifier: input.identifier, name: input.name, accessTokenTtl: input.accessTokenTtl ?? null })
          .onConflictDoNothing({ target: apiResources.identifier })
          .returning();
        if (!row) throw conflict('An API resource with this identifier already exists', 'identifier');
        await insertPermissions(tx, row.identifier, input.permissions);
        await record(tx, actor, { action: 'created', identifier: row.identifier, permissions: input.permissions.map((p) => p.name) });
        return toView(row, input.permissions.map((p) => ({ name: p.name, description: p.description ?? null })));
      });
    },

    /** A new permission list replaces the old one; a permission it drops leaves every role that held it. */
    async update(identifier: string, changes: ResourceChanges, actor: Actor): Promise<ResourceView> {
      if (changes.permissions) checkNames(changes.permissions);
      return db.transaction(async (tx) => {
        const row = await lockedRow(tx, identifier);
        const before = await tx.select().from(apiPermissions).where(eq(apiPermissions.resource, identifier));
        let removedFromRoles: string[] = [];
        let dropped: string[] = [];
        if (changes.permissions) {
          const kept = new Set(changes.permissions.map((p) => p.name));
          dropped = before.map((p) => p.name).filter((name) => !kept.has(name));
          await tx.delete(apiPermissions).where(eq(apiPermissions.resource, identifier));
          await insertPermissions(tx, identifier, changes.permissions);
          removedFromRoles = await stripFromRoles(tx, dropped);
        }
        const [updated] = await tx
          .update(apiResources)
          .set({
            ...(changes.name !== undefined ? { name: changes.name } : {}),
            ...(changes.accessTokenTtl !== undefined ? { accessTokenTtl: changes.accessTokenTtl } : {}),
            updatedAt: new Date(),
          })
          .where(eq(apiResources.identifier, row.identifier))
          .returning();
        const permissions = changes.permissions?.map((p) => ({ name: p.name, description: p.description ?? null })) ?? before;
        await record(tx, actor, { action: 'updated', identifier, permissions: permissions.map((p) => p.name), dropped, removedFromRoles });
        return toView(updated!, permissions);
      });
    },

    async remove(identifier: string, actor: Actor): Promise<{ success: true }> {
      return db.transaction(async (tx) => {
        await lockedRow(tx, identifier);
        const names = (await tx.select({ name: apiPermissions.name }).from(apiPermissions).where(eq(apiPermissions.resource, identifier))).map((p) => p.name);
        const removedFromRoles = await stripFromRoles(tx, names);
        await tx.delete(apiResources).where(eq(apiResources.identifier, identifier));
        await record(tx, actor, { action: 'deleted', identifier, permissions: names, removedFromRoles });
        return { success: true as const };
      });
    },
  };
}

export type ResourceAdmin = ReturnType<typeof createResourceAdmin>;
