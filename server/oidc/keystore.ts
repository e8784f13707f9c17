// Signing keys, cookie secrets and the key that seals secrets in the database, in KEYS_DIR files only the service user can read. keys:rotate adds a
// key pair and supersedes the old: every instance publishes it at once and signs with it from its next
// start; a superseded key stays published and trusted until every token it could have signed has expired.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { z } from 'zod';

export interface PrivateJwk extends JWK {
  kid: string;
  alg: 'ES256' | 'RS256';
  use: 'sig';
}

export interface KeyMeta {
  /** Epoch seconds. */
  createdAt: number;
  supersededAt?: number | undefined;
}

export interface Keys {
  /** Private JWKs in signing preference: current keys first (newest first), then superseded ones. */
  signing: PrivateJwk[];
  /** Cookie signing secrets, newest first: Koa and oidc-provider share them. */
  cookieSecrets: string[];
  /** The AES-256 key that seals secrets kept in the database (TOTP secrets): never stored there. */
  encryptionKey: Buffer;
}

const jwksFile = z.object({
  keys: z
    .array(
      z.looseObject({
        kid: z.string().min(1),
        alg: z.enum(['ES256', 'RS256']),
        use: z.literal('sig'),
        kty: z.enum(['EC', 'RSA']),
        d: z.string().min(1),
      }),
    )
    .min(1),
  meta: z.record(z.string(), z.object({ createdAt: z.number(), supersededAt: z.number().optional() })).default({}),
});
type JwksFile = { keys: PrivateJwk[]; meta: Record<string, KeyMeta> };
const cookiesFile = z.object({ secrets: z.array(z.string().min(32)).min(1) });
const encryptionKeyFile = z.object({ key: z.base64url().refine((k) => Buffer.from(k, 'base64url').length === 32, 'must be 32 bytes') });

export class KeysMissingError extends Error {}

const epoch = () => Math.floor(Date.now() / 1000);
const jwksPathOf = (dir: string) => join(dir, 'jwks.json');

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`KEYS_DIR: ${path} is unreadable (${(error as Error).message})`);
  }
}

async function writeSecret(path: string, value: unknown, { replace = false } = {}): Promise<void> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (replace) {
    // Written aside and renamed over: a reader never sees half a file.
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, path);
    return;
  }
  // 'wx' never overwrites: two instances starting at once on a shared directory cannot clobber each other.
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

export async function generateSigningKey(alg: PrivateJwk['alg']): Promise<PrivateJwk> {
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: 'sig' };
}

async function newKeyPair(now: number): Promise<JwksFile> {
  const keys = [await generateSigningKey('ES256'), await generateSigningKey('RS256')];
  return { keys, meta: Object.fromEntries(keys.map((k) => [k.kid, { createdAt: now }])) };
}

async function readJwksFile(dir: string): Promise<JwksFile | undefined> {
  const raw = await readJson(jwksPathOf(dir));
  if (raw === undefined) return undefined;
  const parsed = jwksFile.safeParse(raw);
  if (!parsed.success) throw new Error(`KEYS_DIR: ${jwksPathOf(dir)} is not a private JWK set`);
  return parsed.data as JwksFile;
}

function inService(file: JwksFile, retentionSeconds: number, now = epoch()): PrivateJwk[] {
  const metaOf = (k: PrivateJwk): KeyMeta => file.meta[k.kid] ?? { createdAt: 0 };
  return file.keys
    .filter((k) => {
      const superseded = metaOf(k).supersededAt;
      return superseded === undefined || superseded + retentionSeconds > now;
    })
    .sort((a, b) => {
      const [ma, mb] = [metaOf(a), metaOf(b)];
      const current = Number(mb.supersededAt === undefined) - Number(ma.supersededAt === undefined);
      return current !== 0 ? current : mb.createdAt - ma.createdAt;
    });
}

export interface LoadOptions {
  allowGenerate: boolean;
  /** How long a superseded key stays trusted; default one day. */
  retentionSeconds?: number;
}

/** Loads the keys, generating what is missing when `allowGenerate`: never in production, where a key
 *  made at start would invalidate every token at the next deploy. */
export async function loadKeys(dir: string, { allowGenerate, retentionSeconds = 86_400 }: LoadOptions): Promise<Keys> {
  const cookiesPath = join(dir, 'cookies.json');
  const encryptionKeyPath = join(dir, 'encryption.json');
  let jwks = await readJwksFile(dir);
  let cookies = await readJson(cookiesPath);
  let encryption = await readJson(encryptionKeyPath);

  if (jwks === undefined || cookies === undefined || encryption === undefined) {
    if (!allowGenerate) {
      const missing = jwks === undefined ? 'jwks.json' : cookies === undefined ? 'cookies.json' : 'encryption.json';
      throw new KeysMissingError(
        `KEYS_DIR: ${dir} has no ${missing}; production never generates keys at start. ` +
          'Create them once outside production (npm start with NODE_ENV unset) and provide the directory.',
      );
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (jwks === undefined) {
      jwks = await newKeyPair(epoch());
      await writeSecret(jwksPathOf(dir), jwks);
    }
    if (cookies === undefined) {
      cookies = { secrets: [randomBytes(32).toString('base64url')] };
      await writeSecret(cookiesPath, cookies);
    }
    if (encryption === undefined) {
      encryption = { key: randomBytes(32).toString('base64url') };
      await writeSecret(encryptionKeyPath, encryption);
    }
  }

  const parsedCookies = cookiesFile.safeParse(cookies);
  if (!parsedCookies.success) throw new Error(`KEYS_DIR: ${cookiesPath} holds no usable cookie secrets`);
  const signing = inService(jwks, retentionSeconds);
  for (const alg of ['ES256', 'RS256'] as const) {
    if (!signing.some((k) => k.alg === alg)) throw new Error(`KEYS_DIR: ${jwksPathOf(dir)} has no ${alg} key in service`);
  }
  const parsedEncryption = encryptionKeyFile.safeParse(encryption);
  if (!parsedEncryption.success) throw new Error(`KEYS_DIR: ${encryptionKeyPath} holds no 32-byte key`);
  return { signing, cookieSecrets: parsedCookies.data.secrets, encryptionKey: Buffer.from(parsedEncryption.data.key, 'base64url') };
}

/** Adds a new ES256 and RS256 key, supersedes the current ones and drops the retired ones. */
export async function rotateKeys(dir: string, { retentionSeconds = 86_400 }: { retentionSeconds?: number } = {}): Promise<{ added: string[]; retired: string[] }> {
  const file = await readJwksFile(dir);
  if (!file) throw new KeysMissingError(`KEYS_DIR: ${dir} has no jwks.json to rotate`);
  const now = epoch();
  const kept = inService(file, retentionSeconds, now);
  const retired = file.keys.filter((k) => !kept.includes(k)).map((k) => k.kid);
  const fresh = await newKeyPair(now);
  const meta: Record<string, KeyMeta> = { ...fresh.meta };
  for (const k of kept) meta[k.kid] = { createdAt: file.meta[k.kid]?.createdAt ?? 0, supersededAt: file.meta[k.kid]?.supersededAt ?? now };
  await writeSecret(jwksPathOf(dir), { keys: [...fresh.keys, ...kept], meta }, { replace: true });
  return { added: fresh.keys.map((k) => k.kid), retired };
}

function toPublic({ d, p, q, dp, dq, qi, ...pub }: PrivateJwk): JWK {
  return pub;
}

export function publicJwks(keys: Keys): { keys: JWK[] } {
  return { keys: keys.signing.map(toPublic) };
}

/** The published key set, re-read when the file changes (checked every `checkEveryMs`), so that a CLI
 *  rotation reaches every running instance; the last set read stays if the file becomes unreadable. */
export function createPublishedKeys(dir: string, loaded: Keys, { retentionSeconds = 86_400, checkEveryMs = 1000 } = {}) {
  let current = publicJwks(loaded);
  let version = 0;
  let mtimeMs = -1;
  let checkedAt = 0;
  return {
    async get(): Promise<{ keys: JWK[]; version: number }> {
      const now = Date.now();
      if (now - checkedAt >= checkEveryMs) {
        checkedAt = now;
        try {
          const info = await stat(jwksPathOf(dir));
          if (info.mtimeMs !== mtimeMs) {
            const file = await readJwksFile(dir);
            if (file) {
              current = { keys: inService(file, retentionSeconds).map(toPublic) };
              mtimeMs = info.mtimeMs;
              version += 1;
            }
          }
        } catch {
        }
      }
      return { keys: current.keys, version };
    },
  };
}

export type PublishedKeys = ReturnType<typeof createPublishedKeys>;
