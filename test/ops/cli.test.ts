// The `gatehouse` bin as an operator runs it: a child process against the PGlite directory (or, under
// TEST_DATABASE_URL, the PostgreSQL database) and KEYS_DIR of a test server. A PGlite directory has
// one process at a time, so the server is closed while the CLI runs. Each run opens the database
// anew: seconds, hence the timeouts.
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, freePort, runCli, type CliRun } from '../helpers/child.ts';
import { createPersistentTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { operator } from '../../server/services/rbac.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';

const COMMANDS = [
  'migrate',
  'user:create',
  'user:list',
  'user:disable',
  'user:enable',
  'user:reset-password',
  'user:reset-mfa',
  'clients:create',
  'clients:list',
  'clients:delete',
  'keys:rotate',
  'keys:list',
];

// Nothing answers here: a command that tried to open this database would fail, not print help.
const NO_DATABASE = cliEnv('postgres://gatehouse@127.0.0.1:1/none', join(tmpdir(), 'gatehouse-no-keys'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The one JSON document of a run's standard output. */
function jsonOf(run: CliRun): any {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

describe('gatehouse --help', () => {
  it('lists every command, and every command explains its options, without a database', async () => {
    const [top, help, listed, none] = await Promise.all([
      runCli(['--help'], { env: NO_DATABASE }),
      runCli(['help'], { env: NO_DATABASE }),
      runCli(['--help', '--json'], { env: NO_DATABASE }),
      runCli([], { env: NO_DATABASE }),
    ]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^usage: gatehouse <command> \[options\]/);
    for (const name of COMMANDS) expect(top.stdout).toContain(`\n  ${name} `);
    expect(help.stdout).toBe(top.stdout);
    expect(jsonOf(listed).commands.map((c: { name: string }) => c.name)).toEqual(COMMANDS);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('no command given');
    expect(none.stderr).toContain('  user:list ');

    const each = await Promise.all(COMMANDS.map((name) => runCli([name, '--help'], { env: NO_DATABASE })));
    for (const [i, run] of each.entries()) {
      const name = COMMANDS[i]!;
      expect(run.stderr, name).toBe('');
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toMatch(new RegExp(`^usage: gatehouse ${name}`));
      expect(run.stdout, name).toMatch(/\noptions:\n(.*\n)*  --json .*\n  --help .*\n$/);
    }
    expect(each[COMMANDS.indexOf('user:disable')]!.stdout).toContain('  --email E ');
    expect(each[COMMANDS.indexOf('clients:create')]!.stdout).toContain('[--no-pkce-required]');
    const [topic, asJson] = await Promise.all([runCli(['help', 'user:list'], { env: NO_DATABASE }), runCli(['user:list', '--help', '--json'], { env: NO_DATABASE })]);
    expect(topic.stdout).toBe(each[COMMANDS.indexOf('user:list')]!.stdout);
    expect(jsonOf(asJson)).toMatchObject({ name: 'user:list', usage: expect.stringContaining('[--query TEXT]'), options: expect.arrayContaining([{ flag: '--limit N', required: false, multiple: false, help: expect.any(String) }]) });
  }, 120_000);
});

describe('usage errors', () => {
  it('exit 2 with the error and the usage of the command, before anything is opened', async () => {
    const cases: [string[], RegExp][] = [
      [['user:frobnicate'], /unknown command: user:frobnicate/],
      [['user:list', '--bogus'], /Unknown option '--bogus'/],
      [['user:disable'], /--email is required/],
      [['user:disable', '--email', 'not-an-address'], /--email: Not a valid email address/],
      [['user:list', '--limit', '0'], /--limit: /],
      [['user:list', '--status', 'gone'], /--status: Must be active or disabled/],
      [['user:list', '--cursor', 'abc'], /--cursor: Not a cursor from a previous page/],
      [['clients:delete', 'gh_positional'], /Unexpected argument 'gh_positional'/],
      [['keys:rotate', '--force'], /Unknown option '--force'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, { env: NO_DATABASE })));
    for (const [i, run] of runs.entries()) {
      const [args, message] = cases[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr, args.join(' ')).toMatch(args[0] === 'user:frobnicate' ? /gatehouse help/ : new RegExp(`usage: gatehouse ${args[0]}`));
    }

    // Under --json, the error is one JSON document on standard error, and standard output stays empty.
    const json = await runCli(['user:list', '--limit', 'many', '--json'], { env: NO_DATABASE });
    expect(json.code).toBe(2);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'USAGE', message: expect.stringMatching(/^--limit: /) } });
  }, 120_000);
});

describe('with a database', () => {
  let keysDir: string;
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let port: number;
  beforeAll(async () => {
    keysDir = join(dir, 'keys');
    // One address for every server, so that tokens of one (issued for its PUBLIC_URL) are good at the next.
    port = await freePort();
    database = await createPersistentTestDatabase(join(dir, 'pglite'));
    env = cliEnv(database.url, keysDir);
  });
  afterAll(() => database?.drop());

  /** Runs one after the other: two processes must never open one PGlite directory at once. */
  async function inTurn<const R extends readonly (readonly [string[], { input?: string }?])[]>(...runs: R): Promise<{ [K in keyof R]: CliRun }> {
    const done: CliRun[] = [];
    for (const [args, options] of runs) done.push(await runCli(args, { env, ...options }));
    return done as { [K in keyof R]: CliRun };
  }

  /** A server on the shared database and keys, closed (the database kept) when `run` is done. */
  async function withServer<T>(run: (gh: TestServer) => Promise<T>): Promise<T> {
    const gh = await startTestServer({ database, keysDir, keep: true, port });
    try {
      return await run(gh);
    } finally {
      await gh.close();
    }
  }

  it('user:create then user:list: a table for a person, the admin API page for a script', async () => {
    const tag = `lovelace${process.pid}${Date.now()}`;
    const account = { ...newAccount(tag), email: `Ada.${tag}@Example.test` };
    const created = jsonOf(await runCli(['user:create', '--email', account.email, '--name', 'Ada Lovelace', '--role', 'admin', '--json'], { env, input: `${account.password}\n` }));
    expect(created).toMatchObject({ email: account.email.toLowerCase(), name: 'Ada Lovelace', roles: ['admin'], isActive: true, mfaEnabled: false });
    expect(created).not.toHaveProperty('passwordHash');
    // Two more of the same tag, for a second page.
    await withServer(async (gh) => {
      for (const n of [1, 2]) await gh.deps.userAdmin.create({ ...newAccount(`${tag}-${n}`), roles: ['user'] }, operator());
    });

    const [text, page, second, admins, disabled] = await inTurn(
      [['user:list', '--query', tag.toUpperCase()]],
      [['user:list', '--query', tag, '--limit', '2', '--json']],
      [['user:list', '--query', 'lovelace', '--role', 'admin', '--status', 'active', '--json']],
      [['user:list', '--role', 'admin', '--json']],
      [['user:list', '--query', tag, '--status', 'disabled', '--json']],
    );
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^EMAIL +NAME +ROLES +STATUS +MFA +CREATED +LAST SIGN-IN +ID\n/);
    expect(text.stdout).toMatch(new RegExp(`\\n${account.email.toLowerCase().replace(/\./g, '\\.')} +Ada Lovelace +admin +active +off .* ${created.id}\\n`));
    expect(text.stdout).toMatch(/\n3 of 3 users\n$/);

    const first = jsonOf(page);
    expect(first).toMatchObject({ total: 3, nextCursor: expect.any(String) });
    expect(first.items).toHaveLength(2);
    const rest = jsonOf(await runCli(['user:list', '--query', tag, '--limit', '2', '--cursor', first.nextCursor, '--json'], { env }));
    expect(rest).toMatchObject({ total: 3, nextCursor: null });
    // Newest first: Ada, created first, is on the second page, and no one is on both.
    expect(rest.items.map((u: { id: string }) => u.id)).toEqual([created.id]);
    expect(first.items.map((u: { id: string }) => u.id)).not.toContain(created.id);

    expect(jsonOf(second).items.map((u: { id: string }) => u.id)).toContain(created.id);
    expect(jsonOf(admins).items.every((u: { roles: string[] }) => u.roles.includes('admin'))).toBe(true);
    expect(jsonOf(disabled)).toEqual({ items: [], nextCursor: null, total: 0 });
    for (const run of [text, page, second, admins]) expect(run.stdout + run.stderr).not.toContain(account.password);
  }, 180_000);

  it('user:disable refuses sign-in and ends every session; user:enable lets the user back in', async () => {
    const account = newAccount('disabled');
    // Two sessions: both end.
    const before = await withServer(async (gh) => ({ first: (await signIn(gh, ['user'], account)).tokens, second: tokensOf(await gh.caller().auth.login(account)) }));
    // Enabling an active user changes nothing: the sessions live on, past the restart.
    const noop = await runCli(['user:enable', '--email', account.email], { env });
    expect(noop.stdout).toBe(`${before.first.user.id} <${account.email}> was already active\n`);
    await withServer(async (gh) => {
      for (const tokens of [before.first, before.second]) expect((await gh.caller({ authorization: `Bearer ${tokens.accessToken}` }).me.get()).id).toBe(tokens.user.id);
    });

    const run = await runCli(['user:disable', '--email', account.email.toUpperCase()], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`disabled ${before.first.user.id} <${account.email}>: every session of theirs ended\n`);
    const again = jsonOf(await runCli(['user:disable', '--email', account.email, '--json'], { env }));
    expect(again).toMatchObject({ id: before.first.user.id, isActive: false });

    await withServer(async (gh) => {
      expect((await trpcHttp(gh.url, 'auth.login', account)).status).toBe(401);
      for (const tokens of [before.first, before.second]) {
        expect((await trpcHttp(gh.url, 'auth.refresh', { refreshToken: tokens.refreshToken })).status).toBe(401);
        await expect(gh.caller({ authorization: `Bearer ${tokens.accessToken}` }).me.get()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      }
      const admin = await signIn(gh, ['admin']);
      const trail = await admin.caller.admin.audit.list({ type: 'user_updated', userId: before.first.user.id });
      // One change: the second disable found the user disabled and changed nothing.
      expect(trail.items).toHaveLength(1);
      expect(trail.items[0]).toMatchObject({ actorId: null, success: true, metadata: { changes: ['isActive'] } });
    });

    const enabled = jsonOf(await runCli(['user:enable', '--email', account.email, '--json'], { env }));
    expect(enabled).toMatchObject({ id: before.first.user.id, isActive: true });
    await withServer(async (gh) => {
      const login = await trpcHttp(gh.url, 'auth.login', account);
      expect(login.status).toBe(200);
      // The sessions ended by the disable stay ended.
      expect((await trpcHttp(gh.url, 'auth.refresh', { refreshToken: before.first.refreshToken })).status).toBe(401);
    });
  }, 180_000);

  it('user:reset-password: the old password stops working, the new one works, every session ends', async () => {
    const account = newAccount('forgot');
    const newPassword = newAccount('forgot').password;
    const session = await withServer(async (gh) => (await signIn(gh, ['user'], account)).tokens);

    // Refused, and nothing changes: a weak password, an unknown address, a password with the address in it.
    const [weak, unknown, weakJson] = await inTurn(
      [['user:reset-password', '--email', account.email], { input: 'password\n' }],
      [['user:reset-password', '--email', `nobody.${process.pid}@example.test`], { input: `${newPassword}\n` }],
      [['user:reset-password', '--email', account.email, '--json'], { input: `${account.email.split('@')[0]}-X9\n` }],
    );
    expect(weak.code).toBe(2);
    expect(weak.stdout).toBe('');
    expect(weak.stderr).toMatch(/^gatehouse: password refused: .*too common/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`gatehouse: no user with the email nobody.${process.pid}@example.test\n`);
    expect(weakJson.code).toBe(2);
    expect(JSON.parse(weakJson.stderr)).toMatchObject({ error: { code: 'WEAK_PASSWORD', fieldErrors: { password: [expect.stringMatching(/email or name/)] } } });
    await withServer(async (gh) => {
      expect((await trpcHttp(gh.url, 'auth.login', account)).status).toBe(200);
      expect((await gh.caller({ authorization: `Bearer ${session.accessToken}` }).me.get()).email).toBe(account.email);
    });

    const run = await runCli(['user:reset-password', '--email', account.email], { env, input: `${newPassword}\n` });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`set a new password for ${session.user.id} <${account.email}>: every session of theirs ended\n`);
    expect(run.stdout).not.toContain(newPassword);

    await withServer(async (gh) => {
      expect((await trpcHttp(gh.url, 'auth.login', account)).status).toBe(401);
      expect((await trpcHttp(gh.url, 'auth.refresh', { refreshToken: session.refreshToken })).status).toBe(401);
      await expect(gh.caller({ authorization: `Bearer ${session.accessToken}` }).me.get()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      expect((await trpcHttp(gh.url, 'auth.login', { email: account.email, password: newPassword })).status).toBe(200);
      const admin = await signIn(gh, ['admin']);
      const trail = await admin.caller.admin.audit.list({ type: 'password_reset', userId: session.user.id });
      expect(trail.items).toHaveLength(1);
      expect(trail.items[0]).toMatchObject({ actorId: null, success: true, reason: 'admin_reset', userAgent: 'gatehouse-cli' });
    });
  }, 180_000);

  it('clients:list shows a client without its secret; clients:delete removes it and its secret stops working', async () => {
    const created = jsonOf(await runCli(['clients:create', '--name', 'Reports', '--grant-type', 'client_credentials', '--scope', 'api', '--json'], { env }));
    const tokenStatus = (gh: TestServer) =>
      fetch(`${gh.url}/oidc/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${created.clientId}:${created.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource: `${gh.url}/api` }),
      }).then((r) => r.status);
    expect(await withServer(tokenStatus)).toBe(200);

    const [text, listed] = await inTurn([['clients:list']], [['clients:list', '--json']]);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(new RegExp(`\\n${created.clientId} +Reports +confidential +client_credentials +no +yes `));
    expect(text.stdout).not.toContain(created.clientSecret);
    const clients = jsonOf(listed) as { clientId: string }[];
    expect(clients.find((c) => c.clientId === created.clientId)).toMatchObject({ name: 'Reports', public: false, grantTypes: ['client_credentials'], scopes: ['api'] });
    expect(listed.stdout).not.toContain(created.clientSecret);

    const deleted = jsonOf(await runCli(['clients:delete', '--client-id', created.clientId, '--json'], { env }));
    expect(deleted).toEqual({ clientId: created.clientId, deleted: true });
    const [gone, after] = await inTurn([['clients:delete', '--client-id', created.clientId]], [['clients:list', '--json']]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`gatehouse: no client with the id ${created.clientId}\n`);
    expect((jsonOf(after) as { clientId: string }[]).map((c) => c.clientId)).not.toContain(created.clientId);
    expect(await withServer(tokenStatus)).toBe(401);
  }, 180_000);
});

describe('the installed bin', () => {
  it('runs from a copy under node_modules, where Node does not strip types itself', async () => {
    // The package as npm installs it from a tarball: its files under node_modules/gatehouse.
    const pkg = join(dir, 'app', 'node_modules', 'gatehouse');
    await mkdir(pkg, { recursive: true });
    for (const part of ['bin', 'server', 'db', 'package.json']) await cp(part, join(pkg, part), { recursive: true });
    await symlink(join(process.cwd(), 'node_modules'), join(pkg, 'node_modules'));
    const run = await runCli(['user:list', '--json'], { env: cliEnv('pglite://memory', join(dir, 'installed-keys')), bin: join(pkg, 'bin', 'gatehouse.js') });
    expect(jsonOf(run)).toEqual({ items: [], nextCursor: null, total: 0 });
  }, 120_000);

  it('hands over to the Node of the `node` dependency when the one on PATH cannot strip types', async () => {
    // An old Node, as the shebang finds it on PATH.
    const oldNode = join(dir, 'old-node');
    await mkdir(oldNode);
    await writeFile(join(oldNode, 'node'), `#!/bin/sh\nexec "${process.execPath}" --no-experimental-strip-types "$@"\n`);
    await chmod(join(oldNode, 'node'), 0o755);
    const env = { ...NO_DATABASE, PATH: `${oldNode}:${process.env.PATH}` };
    const run = await new Promise<CliRun>((resolve) => {
      const child = spawn('bin/gatehouse.js', ['help', 'keys:rotate'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let [stdout, stderr] = ['', ''];
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: gatehouse keys:rotate\n/);
  }, 60_000);
});
