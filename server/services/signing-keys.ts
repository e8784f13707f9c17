// Signing keys and cookie secrets in the database, sealed with the KEK, so that instances share
// nothing but PostgreSQL. A rotation stages a key pair: published at once, signing only after the
// staging delay, when verifiers' cached key sets hold it; the keys it replaces retire then and stay
// published for the retention period, until every token they signed has expired.
import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/client.ts';
import { cookieSecrets, signingKeys } from '../../db/schema/index.ts';
import { generateSigningKey, SIGNING_ALGS, toPublicJwk, type PrivateJwk } from '../common/jwk.ts';
import { UnsealError, type Sealer } from '../common/seal.ts';
import type { LegacyKeys } from '../oidc/keystore.ts';
import type { Audit } from './audit.ts';
import type { Actor } from './rbac.ts';

export type KeyState = 'staged' | 'active' | 'retired';

export interface KeyInfo {
  kid: string;
  alg: PrivateJwk['alg'];
  state: KeyState;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
  /** When a retired key leaves the published set. */
  removedAt: Date | null;
}

export interface LoadedKeys {
  /** Active keys (newest first), then staged, then retired: the provider signs with the first of each algorithm. */
  signing: PrivateJwk[];
  cookieSecrets: string[];
  /** Changes whenever a key is added, removed or changes state. */
  version: string;
}

/** The KEK given does not open what the database holds. */
export class WrongEncryptionKeyError extends Error {}

// Serialises first-start imports and rotations across instances: one writer of the key set at a time.
const KEYS_LOCK = 0x67686b79;

// What a key's state is computed from: everything but its key material.
const META = { kid: signingKeys.kid, alg: signingKeys.alg, createdAt: signingKeys.createdAt, activatesAt: signingKeys.activatesAt, retiredAt: signingKeys.retiredAt };

type Row = Pick<typeof signingKeys.$inferSelect, keyof typeof META>;

export function stateOf(row: Pick<Row, 'activatesAt' | 'retiredAt'>, now: Date): KeyState {
  if (row.retiredAt && row.retiredAt <= now) return 'retired';
  return row.activatesAt <= now ? 'active' : 'staged';
}

const RANK: Record<KeyState, number> = { active: 0, staged: 1, retired: 2 };

function inSigningOrder<T extends Row>(rows: T[], now: Date): T[] {
  return [...rows].sort(
    (a, b) =>
      RANK[stateOf(a, now)] - RANK[stateOf(b, now)] ||
      b.activatesAt.getTime() - a.activatesAt.getTime() ||
      SIGNING_ALGS.indexOf(a.alg) - SIGNING_ALGS.indexOf(b.alg) ||
      a.kid.localeCompare(b.kid),
  );
}

export interface SigningKeysDeps {
  db: Db;
  sealer: Sealer;
  audit: Audit;
  /** How long a retired key stays published. */
  retentionSeconds: number;
  /** How long a new key is published before it signs. */
  stagingSeconds: number;
}

export function createSigningKeys({ db, sealer, audit, retentionSeconds, stagingSeconds }: SigningKeysDeps) {
  const sealKey = (jwk: PrivateJwk) => sealer.seal(Buffer.from(JSON.stringify(jwk)), `signing_key:${jwk.kid}`);
  const sealSecret = (id: string, secret: string) => sealer.seal(Buffer.from(secret), `cookie_secret:${id}`);
  const inRetention = (row: Pick<Row, 'retiredAt'>, now: Date) => !row.retiredAt || row.retiredAt.getTime() + retentionSeconds * 1000 > now.getTime();
  /** Retired keys no token signed by them can outlive any more. */
  const pastRetention = (now: Date) => and(isNotNull(signingKeys.retiredAt), lt(signingKeys.retiredAt, new Date(now.getTime() - retentionSeconds * 1000)));

  async function lock(tx: Tx): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(${KEYS_LOCK})`);
  }

  async function insertKeys(tx: Tx, jwks: PrivateJwk[], times: { createdAt: Date; activatesAt: Date; retiredAt?: Date | null }[]): Promise<void> {
    await tx.insert(signingKeys).values(
      jwks.map((jwk, i) => ({ kid: jwk.kid, alg: jwk.alg, publicJwk: toPublicJwk(jwk), privateJwk: sealKey(jwk), ...times[i]! })),
    );
  }

  function versionOf(rows: Row[], now: Date): string {
    return inSigningOrder(rows.filter((r) => inRetention(r, now)), now)
      .map((r) => `${r.kid}:${stateOf(r, now)}`)
      .join(',');
  }

  return {
    /** Makes the key set on first start: imported from `legacy` KEYS_DIR files when they hold keys,
     *  generated otherwise. Writes nothing when the database has keys already. */
    async ensure(legacy: LegacyKeys): Promise<{ signing: 'kept' | 'imported' | 'generated'; cookies: 'kept' | 'imported' | 'generated' }> {
      const quick = await Promise.all([db.select({ kid: signingKeys.kid }).from(signingKeys).limit(1), db.select({ id: cookieSecrets.id }).from(cookieSecrets).limit(1)]);
      if (quick[0].length > 0 && quick[1].length > 0) return { signing: 'kept', cookies: 'kept' };
      return db.transaction(async (tx) => {
        await lock(tx);
        const now = new Date();
        let signing: 'kept' | 'imported' | 'generated' = 'kept';
        if ((await tx.select({ kid: signingKeys.kid }).from(signingKeys).limit(1)).length === 0) {
          const kept = legacy.signing.filter((k) => k.supersededAt === undefined || (k.supersededAt + retentionSeconds) * 1000 > now.getTime());
          const usable = SIGNING_ALGS.every((alg) => kept.some((k) => k.jwk.alg === alg && k.supersededAt === undefined));
          if (usable) {
            await insertKeys(
              tx,
              kept.map((k) => k.jwk),
              kept.map((k) => ({
                createdAt: new Date(k.createdAt * 1000),
                activatesAt: new Date(k.createdAt * 1000),
                retiredAt: k.supersededAt === undefined ? null : new Date(k.supersededAt * 1000),
              })),
            );
            signing = 'imported';
          } else {
            // The first key set signs at once: no verifier can hold an older one.
            const fresh = await Promise.all(SIGNING_ALGS.map(generateSigningKey));
            await insertKeys(tx, fresh, fresh.map(() => ({ createdAt: now, activatesAt: now })));
            signing = 'generated';
          }
        }
        let cookies: 'kept' | 'imported' | 'generated' = 'kept';
        if ((await tx.select({ id: cookieSecrets.id }).from(cookieSecrets).limit(1)).length === 0) {
          const secrets = legacy.cookieSecrets.length > 0 ? legacy.cookieSecrets : [randomBytes(32).toString('base64url')];
          // Oldest first, a second apart, so that "newest first" keeps the file's order.
          const rows = [...secrets].reverse().map((secret, i) => {
            const id = randomUUID();
            return { id, secret: sealSecret(id, secret), createdAt: new Date(now.getTime() - (secrets.length - i) * 1000) };
          });
          await tx.insert(cookieSecrets).values(rows);
          cookies = legacy.cookieSecrets.length > 0 ? 'imported' : 'generated';
        }
        return { signing, cookies };
      });
    },

    /** Every key still published, unsealed, in signing order, and the cookie secrets. */
    async load(now = new Date()): Promise<LoadedKeys> {
      const [rows, secrets] = await Promise.all([
        db.select().from(signingKeys),
        db.select().from(cookieSecrets).orderBy(desc(cookieSecrets.createdAt)),
      ]);
      const published = inSigningOrder(rows.filter((r) => inRetention(r, now)), now);
      try {
        const signing = published.map((r) => JSON.parse(sealer.open(r.privateJwk, `signing_key:${r.kid}`).toString()) as PrivateJwk);
        const cookies = secrets.map((s) => sealer.open(s.secret, `cookie_secret:${s.id}`).toString());
        return { signing, cookieSecrets: cookies, version: versionOf(rows, now) };
      } catch (error) {
        if (error instanceof UnsealError) {
          throw new WrongEncryptionKeyError(
            `the key-encryption key (ENCRYPTION_KEY, or encryption.json in KEYS_DIR) does not open the signing keys in the database: ${error.message}`,
          );
        }
        throw error;
      }
    },

    /** A cheap read of what `load` would return's version: no unsealing. */
    async version(now = new Date()): Promise<string> {
      return versionOf(await db.select(META).from(signingKeys), now);
    },

    /** Stages a new key pair; the keys in service now retire when it activates. One transaction. */
    async rotate(actor: Actor): Promise<{ added: KeyInfo[]; retiring: string[]; removed: string[] }> {
      const fresh = await Promise.all(SIGNING_ALGS.map(generateSigningKey));
      return db.transaction(async (tx) => {
        await lock(tx);
        const now = new Date();
        const activatesAt = new Date(now.getTime() + stagingSeconds * 1000);
        const removed = await tx.delete(signingKeys).where(pastRetention(now)).returning({ kid: signingKeys.kid });
        const retiring = await tx
          .update(signingKeys)
          .set({ retiredAt: activatesAt })
          .where(or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, activatesAt)))
          .returning({ kid: signingKeys.kid });
        await insertKeys(tx, fresh, fresh.map(() => ({ createdAt: now, activatesAt })));
        const added = fresh.map((jwk) => ({ kid: jwk.kid, alg: jwk.alg, state: stateOf({ activatesAt, retiredAt: null }, now), createdAt: now, activatesAt, retiredAt: null, removedAt: null }));
        await audit.record(
          {
            type: 'key_rotated',
            success: true,
            actorId: actor.userId,
            ...actor.meta,
            metadata: { added: added.map((k) => k.kid), retiring: retiring.map((k) => k.kid), removed: removed.map((k) => k.kid), activatesAt: activatesAt.toISOString() },
          },
          tx,
        );
        return { added, retiring: retiring.map((k) => k.kid), removed: removed.map((k) => k.kid) };
      });
    },

    /** Every stored key with its state, newest first. */
    async list(now = new Date()): Promise<KeyInfo[]> {
      const rows = await db.select(META).from(signingKeys).orderBy(desc(signingKeys.createdAt), asc(signingKeys.alg));
      return rows.map((r) => ({
        ...r,
        state: stateOf(r, now),
        removedAt: r.retiredAt ? new Date(r.retiredAt.getTime() + retentionSeconds * 1000) : null,
      }));
    },

    /** Deletes retired keys past their retention. */
    async purge(now = new Date()): Promise<number> {
      const gone = await db.delete(signingKeys).where(pastRetention(now)).returning({ kid: signingKeys.kid });
      return gone.length;
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
