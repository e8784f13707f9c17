// OAuth clients. A secret is shown once and stored as its SHA-256 digest: 256 random bits need no stretching.
import { randomBytes } from 'node:crypto';
import { desc, eq, inArray } from 'drizzle-orm';
import type Provider from 'oidc-provider';
import type { Db } from '../../db/client.ts';
import { oauthClientRoles, oauthClients, roles, sessions, type OauthClientRow } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import { digest } from '../common/digest.ts';
import type { ClientView, CreatedClient } from '../common/outputs.ts';
import type { Audit } from './audit.ts';
import { accessOf, changedBetween, findRoles, type Access, type Actor } from './rbac.ts';
import { assertMayGrant } from './roles.ts';
import { endSession } from './sessions.ts';

export const CLIENT_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type ClientGrantType = (typeof CLIENT_GRANT_TYPES)[number];

export interface NewClient {
  name: string;
  grantTypes: ClientGrantType[];
  redirectUris?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  public?: boolean | undefined;
  scopes?: string[] | undefined;
  /** First-party clients skip the consent screen. Only operators (CLI, CLIENTS_FILE) set this. */
  firstParty?: boolean | undefined;
  /** False exempts a confidential client from PKCE; never a public one. */
  pkceRequired?: boolean | undefined;
  /** Role names: their permissions go into the client's client_credentials tokens. */
  roles?: string[] | undefined;
}

/** What admin.clients.update may change; the rest (public or confidential, first party) is fixed. */
export type ClientChanges = Partial<Pick<NewClient, 'name' | 'grantTypes' | 'redirectUris' | 'postLogoutRedirectUris' | 'scopes' | 'pkceRequired' | 'roles'>>;

export function clientMetadata(input: NewClient): Record<string, unknown> {
  const grants = [...new Set(input.grantTypes)];
  const isPublic = input.public ?? false;
  const fail = (field: string, message: string) => {
    throw new AppError('INVALID_INPUT', message, { fieldErrors: { [field]: [message] } });
  };
  if (grants.length === 0) fail('grantTypes', 'At least one grant type is required');
  if (isPublic && grants.includes('client_credentials')) fail('grantTypes', 'A public client cannot use client_credentials');
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) fail('grantTypes', 'refresh_token needs authorization_code');
  if (grants.includes('authorization_code') && !input.redirectUris?.length) fail('redirectUris', 'authorization_code needs at least one redirect URI');
  if (!grants.includes('authorization_code') && input.redirectUris?.length) fail('redirectUris', 'Redirect URIs need the authorization_code grant');
  if (isPublic && input.pkceRequired === false) fail('pkceRequired', 'A public client must use PKCE');
  if (input.roles?.length && !grants.includes('client_credentials')) fail('roles', 'Roles are for the client_credentials grant');
  return {
    grant_types: grants,
    response_types: grants.includes('authorization_code') ? ['code'] : [],
    redirect_uris: input.redirectUris ?? [],
    post_logout_redirect_uris: input.postLogoutRedirectUris ?? [],
    token_endpoint_auth_method: isPublic ? 'none' : 'client_secret_basic',
    ...(input.scopes?.length ? { scope: [...new Set(input.scopes)].join(' ') } : {}),
    // Absent means required, so that the default never depends on a stored value.
    ...(input.pkceRequired === false ? { pkce_required: false } : {}),
  };
}

export function newClientSecret(): string {
  return `ghs_${randomBytes(32).toString('base64url')}`;
}

interface StoredMetadata {
  grant_types?: ClientGrantType[];
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  scope?: string;
  token_endpoint_auth_method?: string;
  pkce_required?: boolean;
}

function asNewClient(row: OauthClientRow): NewClient & { public: boolean; pkceRequired: boolean } {
  const m = row.metadata as StoredMetadata;
  return {
    name: row.name,
    grantTypes: m.grant_types ?? [],
    redirectUris: m.redirect_uris ?? [],
    postLogoutRedirectUris: m.post_logout_redirect_uris ?? [],
    public: m.token_endpoint_auth_method === 'none',
    scopes: m.scope ? m.scope.split(' ') : [],
    firstParty: row.firstParty,
    pkceRequired: m.pkce_required !== false,
  };
}

function toView(row: OauthClientRow, roleNames: string[]): ClientView {
  const { name, grantTypes, redirectUris = [], postLogoutRedirectUris = [], scopes = [], firstParty = false, ...rest } = asNewClient(row);
  return { clientId: row.clientId, name, grantTypes, redirectUris, postLogoutRedirectUris, public: rest.public, scopes, firstParty, pkceRequired: rest.pkceRequired, roles: roleNames, createdAt: row.createdAt.toISOString() };
}

async function rolesOf(db: Db, clientIds: string[]): Promise<Map<string, { name: string; permissions: unknown }[]>> {
  const rows = clientIds.length === 0
    ? []
    : await db
        .select({ clientId: oauthClientRoles.clientId, name: roles.name, permissions: roles.permissions })
        .from(oauthClientRoles)
        .innerJoin(roles, eq(roles.id, oauthClientRoles.roleId))
        .where(inArray(oauthClientRoles.clientId, clientIds));
  return new Map(clientIds.map((id) => [id, rows.filter((row) => row.clientId === id)]));
}

/** A client's roles and their permissions, read at every use so that a change applies at once. */
export async function loadClientAccess(db: Db, clientId: string): Promise<Access> {
  return accessOf((await rolesOf(db, [clientId])).get(clientId)!);
}

/** Replaces a client's roles; FORBIDDEN unless the actor holds every permission of each role granted or taken. */
async function setClientRoles(tx: Db, clientId: string, before: string[], names: string[], actor: Actor): Promise<void> {
  const found = await findRoles(tx, [...new Set(names)]);
  await assertMayGrant(tx, actor, changedBetween(before, names));
  await tx.delete(oauthClientRoles).where(eq(oauthClientRoles.clientId, clientId));
  if (found.length > 0) await tx.insert(oauthClientRoles).values(found.map((role) => ({ clientId, roleId: role.id })));
}

async function validateWithProvider(provider: Provider, metadata: Record<string, unknown>): Promise<void> {
  try {
    await provider.Client.validate(metadata as never);
  } catch (error) {
    const description = (error as { error_description?: string }).error_description ?? 'invalid client metadata';
    throw new AppError('INVALID_INPUT', description, { fieldErrors: { _: [description] } });
  }
}

export function createClientAdmin({ db, audit, provider }: { db: Db; audit: Audit; provider: Provider }) {
  return {
    async list(): Promise<ClientView[]> {
      const rows = await db.select().from(oauthClients).orderBy(desc(oauthClients.createdAt));
      const roleRows = await rolesOf(db, rows.map((row) => row.clientId));
      return rows.map((row) => toView(row, roleRows.get(row.clientId)!.map((r) => r.name).sort()));
    },

    async create(input: NewClient, actor: Actor): Promise<CreatedClient> {
      const metadata = clientMetadata(input);
      const clientId = `gh_${randomBytes(12).toString('base64url')}`;
      const clientSecret = metadata.token_endpoint_auth_method === 'none' ? undefined : newClientSecret();
      await validateWithProvider(provider, { ...metadata, client_id: clientId, ...(clientSecret ? { client_secret: digest(clientSecret) } : {}) });
      await db.transaction(async (tx) => {
        await tx.insert(oauthClients).values({
          clientId,
          name: input.name,
          metadata,
          secretHash: clientSecret ? digest(clientSecret) : null,
          firstParty: input.firstParty ?? false,
          createdBy: actor.userId,
        });
        if (input.roles?.length) await setClientRoles(tx, clientId, [], input.roles, actor);
        await audit.record(
          { type: 'client_created', success: true, actorId: actor.userId, metadata: { clientId, name: input.name, grantTypes: metadata.grant_types, pkceRequired: input.pkceRequired !== false, roles: input.roles ?? [] }, ...actor.meta },
          tx,
        );
      });
      return clientSecret ? { clientId, clientSecret } : { clientId };
    },

    /** Changes what `changes` names; the result is checked like a new client's. */
    async update(clientId: string, changes: ClientChanges, actor: Actor): Promise<ClientView> {
      return db.transaction(async (tx) => {
        const [row] = await tx.select().from(oauthClients).where(eq(oauthClients.clientId, clientId)).for('update').limit(1);
        if (!row) throw new AppError('NOT_FOUND', 'Client not found');
        const roleNames = (await rolesOf(tx, [clientId])).get(clientId)!.map((r) => r.name).sort();
        const before = { ...asNewClient(row), roles: roleNames };
        const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as ClientChanges;
        const after = { ...before, ...defined };
        const metadata = clientMetadata(after);
        await validateWithProvider(provider, { ...metadata, client_id: clientId, ...(row.secretHash ? { client_secret: row.secretHash } : {}) });
        const changed = Object.keys(defined).filter((key) => JSON.stringify(before[key as keyof ClientChanges]) !== JSON.stringify(after[key as keyof ClientChanges]));
        const [updated] = await tx.update(oauthClients).set({ name: after.name, metadata }).where(eq(oauthClients.clientId, clientId)).returning();
        if (defined.roles) await setClientRoles(tx, clientId, roleNames, defined.roles, actor);
        await audit.record(
          { type: 'client_updated', success: true, actorId: actor.userId, metadata: { clientId, changed, pkceRequired: after.pkceRequired !== false, ...(defined.roles ? { roles: [...new Set(defined.roles)].sort() } : {}) }, ...actor.meta },
          tx,
        );
        return toView(updated!, [...new Set(after.roles)].sort());
      });
    },

    async remove(clientId: string, actor: Actor): Promise<{ success: true }> {
      const gone = await db.delete(oauthClients).where(eq(oauthClients.clientId, clientId)).returning({ clientId: oauthClients.clientId });
      if (gone.length === 0) throw new AppError('NOT_FOUND', 'Client not found');
      const owned = await db.select({ id: sessions.id }).from(sessions).where(eq(sessions.clientId, clientId));
      for (const session of owned) await endSession(db, session.id);
      await audit.record({ type: 'client_deleted', success: true, actorId: actor.userId, metadata: { clientId }, ...actor.meta });
      return { success: true };
    },
  };
}

export type ClientAdmin = ReturnType<typeof createClientAdmin>;
