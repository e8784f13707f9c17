// Signing keys and cookie secrets in the database, sealed with the KEK, so that instances share
// nothing but PostgreSQL. A rotation stages a key pair and a cookie secret: published (verifying) at
// once, signing only after the staging delay, when verifiers' cached key sets and every instance hold
// them; what they replace retires then and still verifies for its retention period: until every
// token a key signed has expired, and every browser session a secret signed has ended.
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

export interface CookieSecretInfo {
  id: string;
  state: KeyState;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
  /** When a retired secret stops verifying and is deleted. */
  removedAt: Date | null;
}

export interface LoadedKeys {
  /** Active keys (newest first), then staged, then retired: the provider signs with the first of each algorithm. */
  signing: PrivateJwk[];
  /** The active secret first (it signs), then staged and retired ones, which only verify. */
  cookieSecrets: string[];
  /** Changes whenever a key or secret is added, removed or changes state. */
  version: string;
}

export interface Rotation {
  added: KeyInfo[];
  retiring: string[];
  removed: string[];
  cookieSecrets: { added: CookieSecretInfo; retiring: string[]; removed: string[] };
}

/** The KEK given does not open what the database holds. */
export class WrongEncryptionKeyError extends Error {}

// Serialises first-start imports and rotations across instances: one writer of the key set at a time.
const KEYS_LOCK = 0x67686b79;

// What a key's or secret's state is computed from: everything but its key material.
const META = { kid: signingKeys.kid, alg: signingKeys.alg, createdAt: signingKeys.createdAt, activatesAt: signingKeys.activatesAt, retiredAt: signingKeys.retiredAt };
const COOKIE_META = { id: cookieSecrets.id, createdAt: cookieSecrets.createdAt, activatesAt: cookieSecrets.activatesAt, retiredAt: cookieSecrets.retiredAt };

type Row = Pick<typeof signingKeys.$inferSelect, keyof typeof META>;
type CookieRow = Pick<typeof cookieSecrets.$inferSelect, keyof typeof COOKIE_META>;
type Lifetime = Pick<Row, 'activatesAt' | 'retiredAt'>;

export function stateOf(row: Lifetime, now: Date): KeyState {
  if (row.retiredAt && row.retiredAt <= now) return 'retired';
  return row.activatesAt <= now ? 'active' : 'staged';
}

const RANK: Record<KeyState, number> = { active: 0, staged: 1, retired: 2 };

/** Active (newest first), then staged, then retired. */
const byState = (a: Lifetime, b: Lifetime, now: Date) => RANK[stateOf(a, now)] - RANK[stateOf(b, now)] || b.activatesAt.getTime() - a.activatesAt.getTime();

function inSigningOrder<T extends Row>(rows: T[], now: Date): T[] {
  return [...rows].sort((a, b) => byState(a, b, now) || SIGNING_ALGS.indexOf(a.alg) - SIGNING_ALGS.indexOf(b.alg) || a.kid.localeCompare(b.kid));
}

function inCookieOrder<T extends CookieRow>(rows: T[], now: Date): T[] {
  return [...rows].sort((a, b) => byState(a, b, now) || b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id));
}

export interface SigningKeysDeps {
  db: Db;
  sealer: Sealer;
  audit: Audit;
  /** How long a retired key stays published. */
  retentionSeconds: number;
  /** How long a retired cookie secret still verifies: the longest browser session. */
  cookieRetentionSeconds: number;
  /** How long a new key or secret is published before it signs. */
  stagingSeconds: number;
}

export function createSigningKeys({ db, sealer, audit, retentionSeconds, cookieRetentionSeconds, stagingSeconds }: SigningKeysDeps) {
  const sealKey = (jwk: PrivateJwk) => sealer.seal(Buffer.from(JSON.stringify(jwk)), `signing_key:${jwk.kid}`);
  const sealSecret = (id: string, secret: string) => sealer.seal(Buffer.from(secret), `cookie_secret:${id}`);
  const newSecret = () => ({ id: randomUUID(), secret: randomBytes(32).toString('base64url') });
  const removedAt = (row: Lifetime, seconds: number) => (row.retiredAt ? new Date(row.retiredAt.getTime() + seconds * 1000) : null);
  const inRetention = (row: Lifetime, now: Date, seconds = retentionSeconds) => {
    const end = removedAt(row, seconds);
    return end === null || end > now;
  };
  /** Retired longer ago than `seconds`: keys no token signed by them can outlive, secrets no session can. */
  const retiredBefore = (retiredAt: typeof signingKeys.retiredAt | typeof cookieSecrets.retiredAt, seconds: number, now: Date) =>
    and(isNotNull(retiredAt), lt(retiredAt, new Date(now.getTime() - seconds * 1000)));
  const pastRetention = (now: Date) => retiredBefore(signingKeys.retiredAt, retentionSeconds, now);
  const cookiesPastRetention = (now: Date) => retiredBefore(cookieSecrets.retiredAt, cookieRetentionSeconds, now);

  async function lock(tx: Tx): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(${KEYS_LOCK})`);
  }

  async function insertKeys(tx: Tx, jwks: PrivateJwk[], times: { createdAt: Date; activatesAt: Date; retiredAt?: Date | null }[]): Promise<void> {
    await tx.insert(signingKeys).values(
      jwks.map((jwk, i) => ({ kid: jwk.kid, alg: jwk.alg, publicJwk: toPublicJwk(jwk), privateJwk: sealKey(jwk), ...times[i]! })),
    );
  }

  const publishedKeys = <T extends Row>(rows: T[], now: Date) => inSigningOrder(rows.filter((r) => inRetention(r, now)), now);
  const verifyingSecrets = <T extends CookieRow>(rows: T[], now: Date) => inCookieOrder(rows.filter((r) => inRetention(r, now, cookieRetentionSeconds)), now);

  function versionOf(rows: Row[], secrets: CookieRow[], now: Date): string {
    const keys = publishedKeys(rows, now).map((r) => `${r.kid}:${stateOf(r, now)}`);
    const cookies = verifyingSecrets(secrets, now).map((r) => `${r.id}:${stateOf(r, now)}`);
    return `${keys.join(',')};${cookies.join(',')}`;
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
          const secrets = legacy.cookieSecrets.length > 0 ? legacy.cookieSecrets : [newSecret().secret];
          // Oldest first, a second apart, so that "newest first" keeps the file's order.
          const rows = [...secrets].reverse().map((secret, i) => {
            const id = randomUUID();
            const createdAt = new Date(now.getTime() - (secrets.length - i) * 1000);
            return { id, secret: sealSecret(id, secret), createdAt, activatesAt: createdAt };
          });
          await tx.insert(cookieSecrets).values(rows);
          cookies = legacy.cookieSecrets.length > 0 ? 'imported' : 'generated';
        }
        return { signing, cookies };
      });
    },

    /** Every key still published and every secret still verifying, unsealed, in signing order. */
    async load(now = new Date()): Promise<LoadedKeys> {
      const [rows, secrets] = await Promise.all([db.select().from(signingKeys), db.select().from(cookieSecrets)]);
      try {
        const signing = publishedKeys(rows, now).map((r) => JSON.parse(sealer.open(r.privateJwk, `signing_key:${r.kid}`).toString()) as PrivateJwk);
        const cookies = verifyingSecrets(secrets, now).map((s) => sealer.open(s.secret, `cookie_secret:${s.id}`).toString());
        return { signing, cookieSecrets: cookies, version: versionOf(rows, secrets, now) };
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
      const [rows, secrets] = await Promise.all([db.select(META).from(signingKeys), db.select(COOKIE_META).from(cookieSecrets)]);
      return versionOf(rows, secrets, now);
    },

    /** Stages a new key pair and cookie secret; the ones in service now retire when they activate. One transaction. */
    async rotate(actor: Actor): Promise<Rotation> {
      const fresh = await Promise.all(SIGNING_ALGS.map(generateSigningKey));
      const secret = newSecret();
      return db.transaction(async (tx) => {
        await lock(tx);
        const now = new Date();
        const activatesAt = new Date(now.getTime() + stagingSeconds * 1000);
        const staged = { createdAt: now, activatesAt, state: stateOf({ activatesAt, retiredAt: null }, now), retiredAt: null, removedAt: null };
        const removed = (await tx.delete(signingKeys).where(pastRetention(now)).returning({ kid: signingKeys.kid })).map((k) => k.kid);
        const retiring = await tx
          .update(signingKeys)
          .set({ retiredAt: activatesAt })
          .where(or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, activatesAt)))
          .returning({ kid: signingKeys.kid });
        await insertKeys(tx, fresh, fresh.map(() => ({ createdAt: now, activatesAt })));
        const removedSecrets = (await tx.delete(cookieSecrets).where(cookiesPastRetention(now)).returning({ id: cookieSecrets.id })).map((c) => c.id);
        const retiringSecrets = await tx
          .update(cookieSecrets)
          .set({ retiredAt: activatesAt })
          .where(or(isNull(cookieSecrets.retiredAt), gt(cookieSecrets.retiredAt, activatesAt)))
          .returning({ id: cookieSecrets.id });
        await tx.insert(cookieSecrets).values({ id: secret.id, secret: sealSecret(secret.id, secret.secret), createdAt: now, activatesAt });
        const rotation: Rotation = {
          added: fresh.map((jwk) => ({ kid: jwk.kid, alg: jwk.alg, ...staged })),
          retiring: retiring.map((k) => k.kid),
          removed,
          cookieSecrets: { added: { id: secret.id, ...staged }, retiring: retiringSecrets.map((c) => c.id), removed: removedSecrets },
        };
        const { added, cookieSecrets: cookies } = rotation;
        await audit.record(
          {
            type: 'key_rotated',
            success: true,
            actorId: actor.userId,
            ...actor.meta,
            metadata: {
              added: added.map((k) => k.kid),
              retiring: rotation.retiring,
              removed,
              cookieSecrets: { added: cookies.added.id, retiring: cookies.retiring, removed: cookies.removed },
              activatesAt: activatesAt.toISOString(),
            },
          },
          tx,
        );
        return rotation;
      });
    },

    /** Every stored key and cookie secret with its state, newest first. */
    async list(now = new Date()): Promise<{ keys: KeyInfo[]; cookieSecrets: CookieSecretInfo[] }> {
      const [rows, secrets] = await Promise.all([
        db.select(META).from(signingKeys).orderBy(desc(signingKeys.createdAt), asc(signingKeys.alg)),
        db.select(COOKIE_META).from(cookieSecrets).orderBy(desc(cookieSecrets.createdAt), asc(cookieSecrets.id)),
      ]);
      return {
        keys: rows.map((r) => ({ ...r, state: stateOf(r, now), removedAt: removedAt(r, retentionSeconds) })),
        cookieSecrets: secrets.map((r) => ({ ...r, state: stateOf(r, now), removedAt: removedAt(r, cookieRetentionSeconds) })),
      };
    },

    /** Deletes retired keys and secrets past their retention. */
    async purge(now = new Date()): Promise<{ keys: number; cookieSecrets: number }> {
      const keys = await db.delete(signingKeys).where(pastRetention(now)).returning({ kid: signingKeys.kid });
      const secrets = await db.delete(cookieSecrets).where(cookiesPastRetention(now)).returning({ id: cookieSecrets.id });
      return { keys: keys.length, cookieSecrets: secrets.length };
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
