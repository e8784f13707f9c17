// The production bundle (npm run build) as npm start runs it: built into a temporary directory, started
// as a child process, it applies the migrations, loads the templates and the externals, and serves.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES, build, repoDir } from '../../server/build/build.ts';
import { startChild, type ChildServer } from '../helpers/child.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const run = promisify(execFile);

// Beside the real entries: small programs that check what only a bundle can get wrong.
const PROBES = { 'oidc-deep-import': 'test/ops/fixtures/oidc-deep-import.ts', 'rate-limiter-drizzle': 'test/ops/fixtures/rate-limiter-drizzle.ts' };

let outDir: string;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatehouse-bundle-'));
  outDir = join(work, 'dist');
  await build({ outDir, entries: { ...ENTRIES, ...PROBES } });
  // The externals resolve from the bundle's directory upwards, as from dist/ in the repository.
  await symlink(join(repoDir, 'node_modules'), join(work, 'node_modules'));
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the bundle', () => {
  it('is one file per entry, each with a source map of our own sources only', async () => {
    const files = await readdir(outDir);
    expect(files.sort()).toEqual(Object.keys({ ...ENTRIES, ...PROBES }).flatMap((name) => [`${name}.js`, `${name}.js.map`]).sort());
    const { sources } = JSON.parse(await readFile(join(outDir, 'main.js.map'), 'utf8')) as { sources: string[] };
    expect(sources).toContain(relative(outDir, join(repoDir, 'server', 'main.ts')));
    expect(sources.filter((s) => s.includes('node_modules'))).toEqual([]);
  });

  it('runs the CLI', async () => {
    const failed = await run(process.execPath, [join(outDir, 'cli.js')], { timeout: 20_000 }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
  });

  it("shares oidc-provider's module state with its internal initialize_keystore", async () => {
    const { stdout } = await run(process.execPath, ['--enable-source-maps', join(outDir, 'oidc-deep-import.js')], { timeout: 20_000 });
    const { kids, stack } = JSON.parse(stdout) as { kids: string[]; stack: string };
    expect(kids).toEqual(['rebuilt']);
    // Source maps cover our code only: our frame names the source, oidc-provider's the bundle.
    const frames = stack.split('\n').filter((line) => line.trimStart().startsWith('at '));
    expect(frames[0]).toContain(outDir);
    expect(frames[0]).not.toContain('node_modules');
    expect(stack).toMatch(/test\/ops\/fixtures\/oidc-deep-import\.ts:\d+:\d+/);
  });

  it("gives rate-limiter-flexible the bundle's drizzle-orm, not a second one from node_modules", async () => {
    const { stdout } = await run(process.execPath, [join(outDir, 'rate-limiter-drizzle.js')], { timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual({ sameDrizzle: true });
  });

  const serves = (label: string, database: () => Promise<TestDatabase>) =>
    it(`starts on ${label} and serves /readyz, discovery, the JWKS, a sign-in and the REST mirror`, async () => {
      const db = await database();
      let server: ChildServer | undefined;
      try {
        server = await startChild({ DATABASE_URL: db.url, KEYS_DIR: join(work, `keys-${label}`), LOG_LEVEL: 'info' }, { argv: ['--enable-source-maps', join(outDir, 'main.js')] });
        const get = (path: string) => fetch(server!.url + path);
        expect((await get('/readyz')).status).toBe(200);
        const discovery = await get('/oidc/.well-known/openid-configuration');
        expect(discovery.status).toBe(200);
        expect(await discovery.json()).toMatchObject({ issuer: `${server.url}/oidc`, jwks_uri: `${server.url}/oidc/jwks` });
        const { keys } = (await (await get('/oidc/jwks')).json()) as { keys: { kid: string; d?: string }[] };
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.every((k) => k.d === undefined)).toBe(true);
        // A sign-in: bcrypt (external), the rate limits (RateLimiterDrizzle on a database), the audit trail.
        const login = await fetch(`${server.url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'nobody@example.com', password: 'Not-the-password-1' }) });
        expect(login.status).toBe(401);
        // A module loaded on demand, and swagger-ui-dist's files found from the sources' location.
        expect((await (await get('/api/openapi.json')).json()).openapi).toMatch(/^3\./);
        expect((await get('/api/docs/swagger-ui.css')).status).toBe(200);
        expect(server.logs.some((line) => line.includes('"gatehouse listening"') && line.includes(`"database":"${db.driver}"`))).toBe(true);
      } finally {
        await server?.kill();
        await db.drop();
      }
    }, 60_000);

  serves('pglite', async () => ({ url: `pglite:${join(work, 'pglite')}`, driver: 'pglite', drop: async () => {} }));
  if (process.env.TEST_DATABASE_URL) serves('postgres', createTestDatabase);

  // The bundled server rebuilds oidc-provider's keystore through its internal module on a rotation
  // made by the bundled CLI. Two processes on one database: PostgreSQL only.
  it.skipIf(!process.env.TEST_DATABASE_URL)('rotates keys live: the bundled CLI stages a pair, the bundled server publishes it and signs with it', async () => {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, KEYS_DIR: join(work, 'keys-rotate'), KEY_STAGING_SECONDS: '1' };
    let server: ChildServer | undefined;
    try {
      server = await startChild(env, { argv: [join(outDir, 'main.js')] });
      const { stdout } = await run(process.execPath, [join(outDir, 'cli.js'), 'keys:rotate', '--json'], { env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env }, timeout: 30_000 });
      const added = (JSON.parse(stdout) as { added: { kid: string }[] }).added.map((k) => k.kid);
      const signedKid = async () => {
        const res = await fetch(`${server!.url}/trpc/auth.register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `rotate-${Date.now()}-${Math.random()}@example.com`, password: 'Rotate-the-keys-1' }),
        });
        const token = ((await res.json()) as { result: { data: { accessToken: string } } }).result.data.accessToken;
        return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
      };
      const deadline = Date.now() + 20_000;
      for (;;) {
        const kids = ((await (await fetch(`${server.url}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
        if (added.every((kid) => kids.includes(kid)) && added.includes(await signedKid())) break;
        if (Date.now() > deadline) throw new Error('the bundled server never signed with the rotated keys');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    } finally {
      await server?.kill();
      await db.drop();
    }
  }, 60_000);
});
