// Signing keys live in the database, sealed with the KEK: instances with separate KEYS_DIRs that hold
// the same KEK serve one key set, a rotation reaches every instance without a restart, and a verifier
// that caches the JWKS never meets a token signed with a key it has not seen.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../client/src/verifier/index.ts';
import { authEvents, cookieSecrets, signingKeys } from '../../db/schema/index.ts';
import { generateSigningKey } from '../../server/common/jwk.ts';
import { operator } from '../../server/services/rbac.ts';
import { WrongEncryptionKeyError } from '../../server/services/signing-keys.ts';
import { createPersistentTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { Agent, formAction, hiddenField } from '../helpers/agent.ts';
import { APP, authorize, firstPartyApp } from '../helpers/oidc-flow.ts';
import { newAccount, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

const STAGING_SECONDS = 3;
const kidsAt = async (url: string) => ((await (await fetch(`${url}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-rotate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A KEYS_DIR holding only the KEK of `from` (when given): what a second host is handed. */
async function keysDirWithKek(name: string, from?: string): Promise<string> {
  const keysDir = join(dir, name);
  await mkdir(keysDir, { recursive: true });
  if (from) await copyFile(join(from, 'encryption.json'), join(keysDir, 'encryption.json'));
  return keysDir;
}

describe('instances sharing only the database', () => {
  let database: TestDatabase;
  const instances: TestServer[] = [];
  beforeAll(async () => {
    database = await createPersistentTestDatabase(join(dir, 'shared-pglite'));
    const options = { database, keep: true, keyPollMs: 100 };
    const firstDir = await keysDirWithKek('first');
    const first = await startTestServer({ ...options, keysDir: firstDir, env: { KEY_STAGING_SECONDS: String(STAGING_SECONDS) } });
    instances.push(first);
    // PGlite belongs to one process: the second instance needs a PostgreSQL server. Both answer for
    // one public URL, as behind a load balancer.
    if (usingPostgres) {
      const env = { KEY_STAGING_SECONDS: String(STAGING_SECONDS), PUBLIC_URL: first.url };
      instances.push(await startTestServer({ ...options, keysDir: await keysDirWithKek('second', firstDir), env }));
    }
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await database.drop();
  });

  it('serve, rotate and verify as one', async () => {
    const [first, last] = [instances[0]!, instances.at(-1)!];
    const account = newAccount('rotate');
    const before = tokensOf((await trpcHttp(first.url, 'auth.register', account)).body.result.data);
    const oldKid = kidOf(before.accessToken);
    for (const instance of instances) expect(await kidsAt(instance.url)).toContain(oldKid);

    // The verifier of a downstream service, which fetches the key set once and keeps it.
    const verifier = createTokenVerifier({ issuer: last.deps.config.issuer, audience: last.deps.config.apiAudience });

    const { added } = await first.deps.signingKeys.rotate(operator());
    const newKids = added.map((k) => k.kid);
    // Every instance publishes the staged keys at once (within a poll), beside the old ones...
    for (const instance of instances) {
      await until(async () => {
        const kids = await kidsAt(instance.url);
        return newKids.every((kid) => kids.includes(kid));
      }, 'the staged keys');
      expect(await kidsAt(instance.url)).toEqual(expect.arrayContaining([...newKids, oldKid]));
    }
    // ...and keeps signing with the old key while verifiers' caches catch up.
    for (const instance of instances) {
      expect(kidOf(tokensOf((await trpcHttp(instance.url, 'auth.login', account)).body.result.data).accessToken)).toBe(oldKid);
    }
    // The verifier fetches the key set now, during the staging delay, and caches it.
    expect(await verifier.verify(before.accessToken)).toMatchObject({ ok: true });

    // After the delay every instance signs with the new key, with no restart.
    for (const instance of instances) {
      const token = await until(async () => {
        const signed = tokensOf((await trpcHttp(instance.url, 'auth.login', account)).body.result.data).accessToken;
        return kidOf(signed) !== oldKid && signed;
      }, 'signing with the new key');
      expect(newKids).toContain(kidOf(token));
      // Its cached set already holds the key: it verifies without a refetch (jose refetches at most every 30 s).
      expect(await verifier.verify(token)).toMatchObject({ ok: true });
      // The other instances accept it on the API too.
      for (const other of instances) {
        expect((await trpcHttp(other.url, 'me.get', undefined, { method: 'GET', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      }
    }
    // The token signed before the rotation stays good everywhere: the retired key is still published.
    for (const instance of instances) {
      expect(await kidsAt(instance.url)).toContain(oldKid);
      expect((await trpcHttp(instance.url, 'auth.verify', { token: before.accessToken })).body.result.data.active).toBe(true);
    }
    const states = (await first.deps.signingKeys.list()).keys;
    expect(states.filter((k) => k.state === 'active').map((k) => k.kid).sort()).toEqual([...newKids].sort());
    expect(states.find((k) => k.kid === oldKid)?.state).toBe('retired');

    // The cookie secret rotated with the keys, and every instance signs cookies with the new one.
    const { cookieSecrets: secrets } = await first.deps.signingKeys.list();
    expect(secrets.map((c) => c.state)).toEqual(['active', 'retired']);
    const signingSecret = (await first.deps.signingKeys.load()).cookieSecrets[0];
    for (const instance of instances) expect(instance.deps.keys.cookieSecrets[0]).toBe(signingSecret);

    const [audit] = await first.deps.database.db.select().from(authEvents).where(eq(authEvents.type, 'key_rotated'));
    expect(audit?.metadata).toMatchObject({ added: newKids, retiring: expect.arrayContaining([oldKid]), cookieSecrets: { added: secrets[0]!.id, retiring: [secrets[1]!.id] } });
  });

  it('publishes only public key material, staged and retired keys included', async () => {
    const res = await fetch(`${instances[0]!.url}/oidc/jwks`);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(member);
  });

  it('stores no private key or cookie secret in plain text', async () => {
    const { db } = instances[0]!.deps.database;
    const dump = JSON.stringify([await db.select().from(signingKeys), await db.select().from(cookieSecrets)]);
    for (const key of instances[0]!.deps.liveKeys.signing()) expect(dump).not.toContain(key.d);
    for (const secret of instances[0]!.deps.keys.cookieSecrets) expect(dump).not.toContain(secret);
  });

  it('drops retired keys only once every token they signed has expired', async () => {
    const keys = instances[0]!.deps.signingKeys;
    const retired = (await keys.list()).keys.filter((k) => k.state === 'retired');
    expect(retired.length).toBeGreaterThan(0);
    const removedAt = retired[0]!.removedAt!;
    // Retention: a day for verifiers' caches plus the access token lifetime, after retirement.
    expect(removedAt.getTime() - retired[0]!.retiredAt!.getTime()).toBe((86_400 + instances[0]!.deps.config.accessTokenTtl) * 1000);
    const justBefore = new Date(removedAt.getTime() - 1000);
    expect((await keys.load(justBefore)).signing.map((k) => k.kid)).toContain(retired[0]!.kid);
    const after = new Date(removedAt.getTime() + 1000);
    expect((await keys.load(after)).signing.map((k) => k.kid)).not.toContain(retired[0]!.kid);
    expect((await keys.purge(justBefore)).keys).toBe(0);
    expect((await keys.purge(after)).keys).toBe(retired.length);
    expect((await keys.list()).keys.some((k) => k.state === 'retired')).toBe(false);
  });

  it('leaves the key set as it was when the database fails during a rotation', async () => {
    const { db } = instances[0]!.deps.database;
    const before = [await db.select().from(signingKeys), await db.select().from(cookieSecrets)];
    // The rotation's last write, its audit row, fails as a lost database would fail it.
    await db.execute(
      sql.raw(`create function refuse_rotation() returns trigger language plpgsql as $$ begin if new.type = 'key_rotated' then raise exception 'database gone'; end if; return new; end $$`),
    );
    await db.execute(sql.raw('create trigger refuse_rotation before insert on auth_events for each row execute function refuse_rotation()'));
    try {
      await expect(instances[0]!.deps.signingKeys.rotate(operator())).rejects.toThrow();
    } finally {
      await db.execute(sql.raw('drop trigger refuse_rotation on auth_events'));
      await db.execute(sql.raw('drop function refuse_rotation()'));
    }
    const after = [await db.select().from(signingKeys), await db.select().from(cookieSecrets)];
    expect(after).toEqual(before);
  });
});

describe('a cookie-secret rotation', () => {
  let gh: TestServer;
  beforeAll(async () => {
    gh = await startTestServer({ keyPollMs: 100, env: { KEY_STAGING_SECONDS: String(STAGING_SECONDS) } });
  });
  afterAll(() => gh?.close());

  it('keeps browsers signed in and takes a form shown before it; the old secret goes when its sessions could', async () => {
    const { clientId } = await firstPartyApp(gh, 'Cookie App');
    const account = newAccount('cookies');
    await gh.caller().auth.register(account);
    const authorization = async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      const url = new URL(`${gh.url}/oidc/auth`);
      url.search = new URLSearchParams({
        client_id: clientId,
        redirect_uri: `${APP}/callback`,
        response_type: 'code',
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      return url;
    };
    /** Where the browser lands without typing anything: the app with a code, or the login page. */
    const silently = async (agent: Agent) => {
      const hop = await agent.follow((await authorization()).href, gh.url);
      return hop.location?.startsWith(APP) && new URL(hop.location).searchParams.has('code') ? 'signed in' : hop.body.includes('name="password"') ? 'login page' : hop.body;
    };

    const before = new Agent();
    expect((await authorize(gh, before, await authorization(), account, { expectConsent: false })).searchParams.get('code')).toBeTruthy();
    // A browser that signs in now and is not used again until the old secret is gone.
    const dormant = new Agent();
    await authorize(gh, dormant, await authorization(), account, { expectConsent: false });
    // Another browser has the login form on screen when the rotation happens.
    const pending = new Agent();
    const form = await pending.follow((await authorization()).href, gh.url);
    expect(form.body).toContain('name="password"');

    const oldSecret = gh.deps.keys.cookieSecrets[0];
    const { cookieSecrets: rotated } = await gh.deps.signingKeys.rotate(operator());
    await until(async () => gh.deps.keys.cookieSecrets.length === 2 && gh.deps.keys.cookieSecrets[0] !== oldSecret, 'the new secret signing', (STAGING_SECONDS + 10) * 1000);
    expect(gh.deps.keys.cookieSecrets[1]).toBe(oldSecret);

    const posted = await pending.follow(`${gh.url}${formAction(form.body)}`, gh.url, { form: { csrf: hiddenField(form.body, 'csrf'), ...account } });
    expect(posted.location).toMatch(new RegExp(`^${APP}/callback\\?code=`));
    expect(await silently(before)).toBe('signed in');
    const after = new Agent();
    await authorize(gh, after, await authorization(), account, { expectConsent: false });

    // Once no session the old secret signed can still run, it is deleted and verifies nothing. A
    // browser that came back meanwhile was given cookies signed with the new secret.
    const { removedAt } = (await gh.deps.signingKeys.list()).cookieSecrets.find((c) => c.id === rotated.retiring[0])!;
    expect(removedAt!.getTime() - rotated.added.activatesAt.getTime()).toBe(gh.deps.config.refreshTokenTtl * 1000);
    expect(await gh.deps.signingKeys.purge(new Date(removedAt!.getTime() + 1000))).toMatchObject({ cookieSecrets: 1 });
    expect(await gh.deps.liveKeys.refresh()).toBe(true);
    expect(gh.deps.keys.cookieSecrets).toHaveLength(1);
    expect(await silently(dormant)).toBe('login page');
    expect(await silently(before)).toBe('signed in');
    expect(await silently(after)).toBe('signed in');
  });
});

describe('keys:rotate and keys:list, as an operator runs them', () => {
  it('stages a pair and a cookie secret beside the active ones, and lists each with its state', async () => {
    const database = await createPersistentTestDatabase(join(dir, 'cli-pglite'));
    const env = { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: database.url, KEYS_DIR: await keysDirWithKek('cli'), KEY_STAGING_SECONDS: '600' };
    const cli = (...args: string[]) => spawnSync(process.execPath, ['server/cli.ts', ...args], { env, encoding: 'utf8' });
    try {
      const before = cli('keys:list', '--json');
      expect(before.stderr).toBe('');
      const first = (JSON.parse(before.stdout) as { keys: { kid: string; state: string }[] }).keys;
      expect(first.map((k) => k.state)).toEqual(['active', 'active']);

      const rotated = cli('keys:rotate', '--json');
      expect(rotated.status).toBe(0);
      const { added, retiring, cookieSecrets } = JSON.parse(rotated.stdout) as {
        added: { kid: string; state: string; activatesAt: string }[];
        retiring: string[];
        cookieSecrets: { added: { id: string; state: string }; retiring: string[] };
      };
      expect(added.map((k) => k.state)).toEqual(['staged', 'staged']);
      expect(cookieSecrets.added.state).toBe('staged');
      expect(cookieSecrets.retiring).toHaveLength(1);
      expect(retiring.sort()).toEqual(first.map((k) => k.kid).sort());
      // Activation after the staging delay, as configured.
      expect(Date.parse(added[0]!.activatesAt) - Date.now()).toBeGreaterThan(590_000);

      const listed = cli('keys:list');
      expect(listed.status).toBe(0);
      const lines = listed.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^kid\s+alg\s+state\s+activates\s+retires\s+removed$/);
      for (const k of added) expect(lines.find((l) => l.startsWith(k.kid))).toMatch(/ staged /);
      for (const k of first) expect(lines.find((l) => l.startsWith(k.kid))).toMatch(/ active /);
      const secrets = lines.slice(lines.findIndex((l) => l.startsWith('cookie secret')));
      expect(secrets[0]).toMatch(/^cookie secret\s+state\s+activates\s+retires\s+removed$/);
      expect(secrets.find((l) => l.startsWith(cookieSecrets.added.id))).toMatch(/ staged /);
      expect(secrets.find((l) => l.startsWith(cookieSecrets.retiring[0]!))).toMatch(/ active /);
      // Ids and dates only: a secret never leaves the database.
      expect(cli('keys:list', '--json').stdout + rotated.stdout).not.toMatch(/"secret"/);
    } finally {
      await database.drop();
    }
  });
});

describe('the key-encryption key', () => {
  it('a wrong KEK stops start-up with a clear message and overwrites nothing', async () => {
    const database = await createPersistentTestDatabase(join(dir, 'wrong-kek-pglite'));
    const keysDir = await keysDirWithKek('wrong-kek-right');
    const first = await startTestServer({ database, keysDir, keep: true });
    const { db } = first.deps.database;
    const stored = await db.select().from(signingKeys);
    await first.close();
    try {
      const otherDir = await keysDirWithKek('wrong-kek-other');
      await writeFile(join(otherDir, 'encryption.json'), JSON.stringify({ key: Buffer.alloc(32, 7).toString('base64url') }));
      await expect(startTestServer({ database, keysDir: otherDir, keep: true })).rejects.toThrow(WrongEncryptionKeyError);
      await expect(startTestServer({ database, keysDir: otherDir, keep: true })).rejects.toThrow(/key-encryption key .* does not open the signing keys/);
      // The right KEK, given as ENCRYPTION_KEY instead of a file, still opens everything.
      const { key } = JSON.parse(await readFile(join(keysDir, 'encryption.json'), 'utf8')) as { key: string };
      const again = await startTestServer({ database, keysDir: await keysDirWithKek('wrong-kek-empty'), keep: true, env: { ENCRYPTION_KEY: key } });
      try {
        expect(await again.deps.database.db.select().from(signingKeys)).toEqual(stored);
        expect(await kidsAt(again.url)).toEqual(expect.arrayContaining(stored.map((k) => k.kid)));
      } finally {
        await again.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('production refuses to start without one, and never makes one', async () => {
    const keysDir = await keysDirWithKek('prod-none');
    const database = await createPersistentTestDatabase(join(dir, 'prod-pglite'));
    await expect(
      startTestServer({
        database,
        keysDir,
        env: { NODE_ENV: 'production', PUBLIC_URL: 'https://id.example.com', SMTP_URL: 'smtp://127.0.0.1:2525', BCRYPT_COST: '10' },
      }),
    ).rejects.toThrow(/ENCRYPTION_KEY/);
    expect(await readdir(keysDir)).toEqual([]);
    await database.drop();
  });
});

describe('an install from before keys moved into the database', () => {
  it('imports the KEYS_DIR signing keys and cookie secrets once, on first start', async () => {
    const keysDir = await keysDirWithKek('legacy');
    const [es, rs] = [await generateSigningKey('ES256'), await generateSigningKey('RS256')];
    const epoch = Math.floor(Date.now() / 1000);
    const legacySecret = 'l'.repeat(43);
    await writeFile(join(keysDir, 'jwks.json'), JSON.stringify({ keys: [es, rs], meta: { [es.kid]: { createdAt: epoch - 60 }, [rs.kid]: { createdAt: epoch - 60 } } }));
    await writeFile(join(keysDir, 'cookies.json'), JSON.stringify({ secrets: [legacySecret] }));
    const database = await createPersistentTestDatabase(join(dir, 'legacy-pglite'));
    const first = await startTestServer({ database, keysDir, keep: true });
    try {
      const tokens = tokensOf((await trpcHttp(first.url, 'auth.register', newAccount('legacy'))).body.result.data);
      expect(kidOf(tokens.accessToken)).toBe(es.kid);
      expect((await kidsAt(first.url)).sort()).toEqual([es.kid, rs.kid].sort());
      expect(first.deps.keys.cookieSecrets).toEqual([legacySecret]);
      const [{ n }] = (await first.deps.database.db.select({ n: count() }).from(signingKeys)) as [{ n: number }];
      expect(n).toBe(2);
    } finally {
      await first.close();
    }
    // Later starts keep the database's set, whatever the files say now.
    await writeFile(join(keysDir, 'jwks.json'), JSON.stringify({ keys: [await generateSigningKey('ES256'), await generateSigningKey('RS256')] }));
    const second = await startTestServer({ database, keysDir, keep: true });
    try {
      expect((await kidsAt(second.url)).sort()).toEqual([es.kid, rs.kid].sort());
    } finally {
      await second.close();
      await database.drop();
    }
  });
});
