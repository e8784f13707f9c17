// KEYS_DIR: the key-encryption key, made once outside production, and the files of older installs.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeysMissingError, loadEncryptionKey, readLegacyKeys } from '../../server/oidc/keystore.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-keystore-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('the key-encryption key', () => {
  it('is made on first start outside production, readable by the owner only, and reused', async () => {
    const dir = join(await tempDir(), 'keys');
    const first = await loadEncryptionKey(dir, { fromEnv: null, allowGenerate: true });
    expect(first).toHaveLength(32);
    expect((await stat(join(dir, 'encryption.json'))).mode & 0o777).toBe(0o600);
    expect(await loadEncryptionKey(dir, { fromEnv: null, allowGenerate: false })).toEqual(first);
  });

  it('is never made in production', async () => {
    const dir = await tempDir();
    await expect(loadEncryptionKey(dir, { fromEnv: null, allowGenerate: false })).rejects.toThrow(KeysMissingError);
    await expect(loadEncryptionKey(dir, { fromEnv: null, allowGenerate: false })).rejects.toThrow(/ENCRYPTION_KEY/);
  });

  it('comes from ENCRYPTION_KEY when set, over any file, and writes none', async () => {
    const dir = await tempDir();
    const key = Buffer.alloc(32, 9);
    await writeFile(join(dir, 'encryption.json'), JSON.stringify({ key: Buffer.alloc(32, 1).toString('base64url') }));
    expect(await loadEncryptionKey(dir, { fromEnv: key.toString('base64url'), allowGenerate: true })).toEqual(key);
    const empty = await tempDir();
    await loadEncryptionKey(empty, { fromEnv: key.toString('base64url'), allowGenerate: true });
    await expect(stat(join(empty, 'encryption.json'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a file that does not hold a 32-byte key, naming it, and leaves it alone', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'encryption.json'), JSON.stringify({ key: 'c2hvcnQ' }));
    await expect(loadEncryptionKey(dir, { fromEnv: null, allowGenerate: true })).rejects.toThrow(/encryption\.json holds no 32-byte key/);
    expect(await readFile(join(dir, 'encryption.json'), 'utf8')).toContain('c2hvcnQ');
  });
});

describe('signing keys and cookie secrets of older installs', () => {
  it('finds none in a directory without them', async () => {
    expect(await readLegacyKeys(await tempDir())).toEqual({ signing: [], cookieSecrets: [] });
  });

  it('rejects a corrupt key file with a message naming KEYS_DIR', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'jwks.json'), '{"keys":[{"kid":"x"}]}');
    await expect(readLegacyKeys(dir)).rejects.toThrow(/KEYS_DIR: .*jwks\.json is not a private JWK set/);
  });
});
