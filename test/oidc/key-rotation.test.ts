// keys:rotate: a new key is published at once, signing moves to it at the next start, and tokens
// signed before the rotation keep verifying until they expire.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadKeys, rotateKeys } from '../../server/oidc/keystore.ts';
import { createPersistentTestDatabase } from '../helpers/database.ts';
import { newAccount, startTestServer, trpcHttp } from '../helpers/server.ts';

const kidsAt = async (url: string) => ((await (await fetch(`${url}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('key rotation', () => {
  it('publishes the new key at once and keeps old tokens valid across the switch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-rotate-'));
    const keysDir = join(dir, 'keys');
    const database = await createPersistentTestDatabase(join(dir, 'pglite'));
    const first = await startTestServer({ database, keysDir, keep: true });
    const port = Number(new URL(first.url).port);
    let second: Awaited<ReturnType<typeof startTestServer>> | undefined;
    try {
      const account = newAccount('rotate');
      const before = (await trpcHttp(first.url, 'auth.register', account)).body.result.data;
      const oldKid = decodeProtectedHeader(before.accessToken).kid!;

      // The CLI, as an operator runs it, against the directory the service is using.
      const run = spawnSync(process.execPath, ['server/cli.ts', 'keys:rotate'], { env: { PATH: process.env.PATH, KEYS_DIR: keysDir }, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const added = /added keys: (\S+), (\S+)/.exec(run.stdout)!.slice(1);

      // Published by the running instance at once, next to the old keys.
      await new Promise((r) => setTimeout(r, 1100));
      const published = await kidsAt(first.url);
      expect(published).toEqual(expect.arrayContaining([...added, oldKid]));
      // The running instance still signs with the key it started with.
      const stillOld = (await trpcHttp(first.url, 'auth.login', account)).body.result.data;
      expect(decodeProtectedHeader(stillOld.accessToken).kid).toBe(oldKid);
      await first.close();

      second = await startTestServer({ database, keysDir, keep: true, port });
      const after = (await trpcHttp(second.url, 'auth.login', account)).body.result.data;
      const newKid = decodeProtectedHeader(after.accessToken).kid!;
      expect(added).toContain(newKid);
      expect(newKid).not.toBe(oldKid);

      // The token signed before the rotation still verifies: offline, on our API, in auth.verify.
      const jwks = createRemoteJWKSet(new URL(`${second.url}/oidc/jwks`));
      await expect(jwtVerify(before.accessToken, jwks, { issuer: `${second.url}/oidc`, audience: `${second.url}/api` })).resolves.toBeTruthy();
      await expect(jwtVerify(after.accessToken, jwks, { issuer: `${second.url}/oidc`, audience: `${second.url}/api` })).resolves.toBeTruthy();
      const me = await trpcHttp(second.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${before.accessToken}` } });
      expect(me.status).toBe(200);
      expect((await trpcHttp(second.url, 'auth.verify', { token: before.accessToken })).body.result.data.active).toBe(true);
    } finally {
      if (second) await second.close();
      else await first.close().catch(() => {});
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('retires superseded keys once their tokens can no longer be live', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-retire-'));
    try {
      const original = await loadKeys(dir, { allowGenerate: true });
      const { added } = await rotateKeys(dir, { retentionSeconds: 3600 });
      const both = await loadKeys(dir, { allowGenerate: false, retentionSeconds: 3600 });
      expect(both.signing.map((k) => k.kid).slice(0, 2).sort()).toEqual([...added].sort());
      expect(both.signing).toHaveLength(4);
      // Pretend the rotation happened two hours ago.
      const file = JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8'));
      for (const k of original.signing) file.meta[k.kid].supersededAt -= 7200;
      await writeFile(join(dir, 'jwks.json'), JSON.stringify(file));
      const later = await loadKeys(dir, { allowGenerate: false, retentionSeconds: 3600 });
      expect(later.signing.map((k) => k.kid).sort()).toEqual([...added].sort());
      const { retired } = await rotateKeys(dir, { retentionSeconds: 3600 });
      expect(retired.sort()).toEqual(original.signing.map((k) => k.kid).sort());
      const onDisk = JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8'));
      expect(onDisk.keys).toHaveLength(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
