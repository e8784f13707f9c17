import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeysMissingError, loadKeys, publicJwks } from '../../server/oidc/keystore.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-keystore-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('keystore', () => {
  it('generates ES256 and RS256 keys and a cookie secret on first start, readable by the owner only', async () => {
    const dir = join(await tempDir(), 'keys');
    const keys = await loadKeys(dir, { allowGenerate: true });
    expect(keys.signing.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(keys.cookieSecrets).toHaveLength(1);
    for (const file of ['jwks.json', 'cookies.json']) {
      expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    }
  });

  it('reuses the same keys on later starts', async () => {
    const dir = await tempDir();
    const first = await loadKeys(dir, { allowGenerate: true });
    const second = await loadKeys(dir, { allowGenerate: true });
    expect(second).toEqual(first);
  });

  it('refuses to generate keys when generation is not allowed (production)', async () => {
    const dir = await tempDir();
    await expect(loadKeys(dir, { allowGenerate: false })).rejects.toBeInstanceOf(KeysMissingError);
  });

  it('publishes only public key material', async () => {
    const keys = await loadKeys(await tempDir(), { allowGenerate: true });
    const published = JSON.stringify(publicJwks(keys));
    for (const secret of ['"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"']) expect(published).not.toContain(secret);
  });

  it('rejects a corrupt key file with a message naming KEYS_DIR', async () => {
    const dir = await tempDir();
    await loadKeys(dir, { allowGenerate: true });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'jwks.json'), '{"keys":[]}');
    await expect(loadKeys(dir, { allowGenerate: true })).rejects.toThrow(/KEYS_DIR/);
    expect(await readFile(join(dir, 'cookies.json'), 'utf8')).toMatch(/secrets/);
  });
});
