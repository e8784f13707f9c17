// Signing keys and cookie secrets, kept in KEYS_DIR as files only the service user can read.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { z } from 'zod';

export interface PrivateJwk extends JWK {
  kid: string;
  alg: 'ES256' | 'RS256';
  use: 'sig';
}

export interface Keys {
  /** Private JWKs, newest first; oidc-provider signs with the first of each algorithm. */
  signing: PrivateJwk[];
  /** Cookie signing secrets, newest first: Koa and oidc-provider share them. */
  cookieSecrets: string[];
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
});
const cookiesFile = z.object({ secrets: z.array(z.string().min(32)).min(1) });

export class KeysMissingError extends Error {}

async function readJson(path: string): Promise<unknown | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: unreadable (${(error as Error).message})`);
  }
}

async function writeSecret(path: string, value: unknown): Promise<void> {
  // 'wx' never overwrites: two instances starting at once on a shared directory cannot clobber each other.
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
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

/**
 * Loads the keys from `dir`, generating whatever is missing when `allowGenerate` (never in
 * production, where a key made at start would silently invalidate every token on the next deploy).
 */
export async function loadKeys(dir: string, { allowGenerate }: { allowGenerate: boolean }): Promise<Keys> {
  const jwksPath = join(dir, 'jwks.json');
  const cookiesPath = join(dir, 'cookies.json');
  let jwks = await readJson(jwksPath);
  let cookies = await readJson(cookiesPath);

  if (jwks === undefined || cookies === undefined) {
    if (!allowGenerate) {
      throw new KeysMissingError(
        `KEYS_DIR: ${dir} has no ${jwks === undefined ? 'jwks.json' : 'cookies.json'}; production never generates keys at start. ` +
          'Create them once outside production (npm start with NODE_ENV unset) and provide the directory.',
      );
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (jwks === undefined) {
      jwks = { keys: [await generateSigningKey('ES256'), await generateSigningKey('RS256')] };
      await writeSecret(jwksPath, jwks);
    }
    if (cookies === undefined) {
      cookies = { secrets: [randomBytes(32).toString('base64url')] };
      await writeSecret(cookiesPath, cookies);
    }
  }

  const parsedJwks = jwksFile.safeParse(jwks);
  if (!parsedJwks.success) throw new Error(`KEYS_DIR: ${jwksPath} is not a private JWK set`);
  const parsedCookies = cookiesFile.safeParse(cookies);
  if (!parsedCookies.success) throw new Error(`KEYS_DIR: ${cookiesPath} holds no usable cookie secrets`);
  return { signing: parsedJwks.data.keys as PrivateJwk[], cookieSecrets: parsedCookies.data.secrets };
}

/** The public halves, as served at /oidc/jwks. */
export function publicJwks(keys: Keys): { keys: JWK[] } {
  return {
    keys: keys.signing.map(({ d, p, q, dp, dq, qi, ...pub }) => pub),
  };
}
