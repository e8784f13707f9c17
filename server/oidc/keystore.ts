// What KEYS_DIR holds: the key-encryption key (KEK) that seals secrets kept in the database (signing
// keys, cookie secrets, TOTP secrets), unless ENCRYPTION_KEY provides it; and, from installs before
// keys moved into the database, the signing keys and cookie secrets that the first start imports.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { PrivateJwk } from '../common/jwk.ts';
import { kekText } from '../common/seal.ts';

/** Signing keys and cookie secrets found in KEYS_DIR files, to import into the database once. */
export interface LegacyKeys {
  signing: { jwk: PrivateJwk; createdAt: number; supersededAt?: number | undefined }[];
  cookieSecrets: string[];
}

export class KeysMissingError extends Error {}

const encryptionKeyFile = z.object({ key: kekText });
const jwksFile = z.object({
  keys: z.array(
    z.looseObject({
      kid: z.string().min(1),
      alg: z.enum(['ES256', 'RS256']),
      use: z.literal('sig'),
      kty: z.enum(['EC', 'RSA']),
      d: z.string().min(1),
    }),
  ),
  meta: z.record(z.string(), z.object({ createdAt: z.number(), supersededAt: z.number().optional() })).default({}),
});
const cookiesFile = z.object({ secrets: z.array(z.string().min(32)).min(1) });

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`KEYS_DIR: ${path} is unreadable (${(error as Error).message})`);
  }
}

export interface EncryptionKeyOptions {
  /** ENCRYPTION_KEY as config checked it (kekText), when set: it wins over the file. */
  fromEnv: string | null;
  /** Make the file when it is missing: never in production, where a new KEK would open nothing stored. */
  allowGenerate: boolean;
}

export async function loadEncryptionKey(dir: string, { fromEnv, allowGenerate }: EncryptionKeyOptions): Promise<Buffer> {
  if (fromEnv !== null) return Buffer.from(fromEnv, 'base64url');
  const path = join(dir, 'encryption.json');
  const found = await readJson(path);
  if (found !== undefined) {
    const parsed = encryptionKeyFile.safeParse(found);
    if (!parsed.success) throw new KeysMissingError(`KEYS_DIR: ${path} holds no 32-byte key`);
    return Buffer.from(parsed.data.key, 'base64url');
  }
  if (!allowGenerate) {
    throw new KeysMissingError(
      `no key-encryption key: set ENCRYPTION_KEY or provide ${path}; production never generates one. ` +
        'Make one with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))"',
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // 'wx' never overwrites: two instances starting at once on one directory cannot clobber each other.
    await writeFile(path, `${JSON.stringify({ key: key.toString('base64url') })}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadEncryptionKey(dir, { fromEnv, allowGenerate: false });
    throw error;
  }
  await chmod(path, 0o600);
  return key;
}

/** The signing keys and cookie secrets of KEYS_DIR files, if any. */
export async function readLegacyKeys(dir: string): Promise<LegacyKeys> {
  const jwksPath = join(dir, 'jwks.json');
  const cookiesPath = join(dir, 'cookies.json');
  const [jwks, cookies] = await Promise.all([readJson(jwksPath), readJson(cookiesPath)]);
  const signing: LegacyKeys['signing'] = [];
  if (jwks !== undefined) {
    const parsed = jwksFile.safeParse(jwks);
    if (!parsed.success) throw new KeysMissingError(`KEYS_DIR: ${jwksPath} is not a private JWK set`);
    for (const jwk of parsed.data.keys as PrivateJwk[]) {
      const meta = parsed.data.meta[jwk.kid];
      signing.push({ jwk, createdAt: meta?.createdAt ?? 0, supersededAt: meta?.supersededAt });
    }
  }
  let cookieSecrets: string[] = [];
  if (cookies !== undefined) {
    const parsed = cookiesFile.safeParse(cookies);
    if (!parsed.success) throw new KeysMissingError(`KEYS_DIR: ${cookiesPath} holds no usable cookie secrets`);
    cookieSecrets = parsed.data.secrets;
  }
  return { signing, cookieSecrets };
}
