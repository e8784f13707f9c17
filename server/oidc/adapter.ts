// oidc-provider's storage adapter on Drizzle, one table for every model. Security invariant: the
// credentials clients present (tokens, codes, session ids, user codes) are stored only as SHA-256
// digests and the raw jti never stays in a payload, so a copy of the database holds no credential.
// Grant and interaction ids are looked up by digest too; the provider keeps them in payloads, where
// they are no credential (a grant id is every access token's `sid`, a resume needs the signed cookie).
import { and, eq, isNull, lt } from 'drizzle-orm';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Db } from '../../db/client.ts';
import { oauthClients, oidcPayloads } from '../../db/schema/index.ts';
import { digest } from '../common/digest.ts';

export interface AdapterOptions {
  /** Seconds after a rotation in which the old refresh token fails without revoking the session (tabs racing). */
  refreshGraceSeconds: number;
}

/** The payload without its jti, and without the browser session id the provider copies into Interactions. */
function scrub(payload: AdapterPayload): Record<string, unknown> {
  const { jti: _jti, ...stored } = payload as Record<string, unknown>;
  const session = stored.session as Record<string, unknown> | undefined;
  if (session && typeof session === 'object' && 'cookie' in session) {
    const { cookie: _cookie, ...rest } = session;
    stored.session = rest;
  }
  return stored;
}

export type AdapterFactory = (model: string) => Adapter;

export function createAdapterFactory(db: Db, options: AdapterOptions): AdapterFactory {
  const Store = createStoreClass(db, options);
  const clients = createClientStore(db);
  return (model) => (model === 'Client' ? clients : new Store(model));
}

function createStoreClass(db: Db, { refreshGraceSeconds }: AdapterOptions) {
  return class DrizzleAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const row = {
        payload: scrub(payload),
        grantId: payload.grantId ? digest(payload.grantId) : null,
        uid: payload.uid ? digest(payload.uid) : null,
        userCode: payload.userCode ? digest(payload.userCode) : null,
        accountId: payload.accountId ?? null,
        expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await db
        .insert(oidcPayloads)
        .values({ model: this.model, id: digest(id), ...row })
        .onConflictDoUpdate({ target: [oidcPayloads.model, oidcPayloads.id], set: row });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return this.#findBy(eq(oidcPayloads.id, digest(id)), id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.#findBy(eq(oidcPayloads.uid, digest(uid)));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#findBy(eq(oidcPayloads.userCode, digest(userCode)));
    }

    async #findBy(where: ReturnType<typeof eq>, id?: string): Promise<AdapterPayload | undefined> {
      const [row] = await db
        .select({ id: oidcPayloads.id, payload: oidcPayloads.payload, expiresAt: oidcPayloads.expiresAt, consumedAt: oidcPayloads.consumedAt })
        .from(oidcPayloads)
        .where(and(eq(oidcPayloads.model, this.model), where))
        .limit(1);
      if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
      if (row.consumedAt && this.model === 'RefreshToken' && row.consumedAt.getTime() > Date.now() - refreshGraceSeconds * 1000) {
        return undefined;
      }
      // By uid or user code the jti cannot come back (only its digest is stored); the provider reads the rest only.
      return {
        ...(row.payload as AdapterPayload),
        ...(id === undefined ? {} : { jti: id }),
        ...(row.consumedAt ? { consumed: Math.floor(row.consumedAt.getTime() / 1000) } : {}),
      };
    }

    async consume(id: string): Promise<void> {
      // Atomic: of two concurrent consumers one wins. oidc-provider ignores consume()'s result: the loser throws.
      const won = await db
        .update(oidcPayloads)
        .set({ consumedAt: new Date() })
        .where(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, digest(id)), isNull(oidcPayloads.consumedAt)))
        .returning({ id: oidcPayloads.id });
      if (won.length === 0) throw new errors.InvalidGrant('grant already used by a concurrent request');
    }

    async destroy(id: string): Promise<void> {
      await db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, digest(id))));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.delete(oidcPayloads).where(and(eq(oidcPayloads.model, this.model), eq(oidcPayloads.grantId, digest(grantId))));
    }
  };
}

function createClientStore(db: Db): Adapter {
  const readOnly = async () => {
    throw new Error('clients are managed through admin.clients, not the provider');
  };
  return {
    async find(id) {
      const [row] = await db.select().from(oauthClients).where(eq(oauthClients.clientId, id)).limit(1);
      if (!row) return undefined;
      return {
        ...row.metadata,
        client_id: row.clientId,
        client_name: row.name,
        first_party: row.firstParty,
        ...(row.secretHash ? { client_secret: row.secretHash } : {}),
      };
    },
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    upsert: readOnly,
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: async () => {},
  };
}

/** Deletes rows past their expiry. Consumed refresh tokens stay until then, for reuse detection. */
export async function purgeExpiredOidcRows(db: Db, now = new Date()): Promise<number> {
  const gone = await db.delete(oidcPayloads).where(lt(oidcPayloads.expiresAt, now)).returning({ id: oidcPayloads.id });
  return gone.length;
}
