// Getting the first admin in: ADMIN_EMAIL/ADMIN_PASSWORD at start, and the operator CLI.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/config.ts';
import { ensureBootstrapAdmin } from '../../server/bootstrap.ts';
import { createPersistentTestDatabase, createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { newAccount, startTestServer, tokensOf } from '../helpers/server.ts';

describe('ADMIN_EMAIL / ADMIN_PASSWORD', () => {
  it('creates that admin at start when none exists, once', async () => {
    const account = newAccount('boot');
    const gh = await startTestServer({ env: { ADMIN_EMAIL: account.email.toUpperCase(), ADMIN_PASSWORD: account.password } });
    try {
      const tokens = tokensOf(await gh.caller().auth.login(account));
      expect(tokens.user.roles).toEqual(['admin', 'user']);
      const admin = gh.caller({ authorization: `Bearer ${tokens.accessToken}` });
      await ensureBootstrapAdmin({ ...gh.deps, db: gh.deps.database.db });
      expect((await admin.admin.users.list({ role: 'admin' })).total).toBe(1);
    } finally {
      await gh.close();
    }
  });

  it('refuses a weak ADMIN_PASSWORD with a message naming it', async () => {
    const database = await createTestDatabase();
    try {
      const attempt = startTestServer({ database, env: { ADMIN_EMAIL: 'root@example.test', ADMIN_PASSWORD: 'password' } });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow(/ADMIN_PASSWORD/);
    } finally {
      await database.drop();
    }
  });

  it('never promotes an existing account that holds the address', async () => {
    const account = newAccount('squatter');
    const gh = await startTestServer();
    try {
      await gh.caller().auth.register(account);
      await ensureBootstrapAdmin({
        ...gh.deps,
        db: gh.deps.database.db,
        config: { ...gh.deps.config, admin: { email: account.email, password: 'Operator-Chosen-1' } },
      });
      const tokens = tokensOf(await gh.caller().auth.login(account));
      expect(tokens.user.roles).toEqual(['user']);
    } finally {
      await gh.close();
    }
  });
});

describe('npm run cli -- user:create', () => {
  let dir: string;
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    database = await createPersistentTestDatabase(join(dir, 'pglite'));
    env = { PATH: process.env.PATH, DATABASE_URL: database.url, BCRYPT_COST: '4', KEYS_DIR: join(dir, 'keys') };
  });
  afterAll(async () => {
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  function cli(args: string[], input: string) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['server/cli.ts', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  it('creates an admin with the password from standard input, who can then sign in', async () => {
    const account = newAccount('ops');
    const run = await cli(['user:create', '--email', account.email, '--role', 'admin'], `${account.password}\n`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/created user [0-9a-f-]{36} <.+> roles: admin/);
    expect(run.stdout + run.stderr).not.toContain(account.password);

    const gh = await startTestServer({ database, keysDir: join(dir, 'keys'), keep: true });
    try {
      const tokens = tokensOf(await gh.caller().auth.login(account));
      expect(tokens.user.roles).toEqual(['admin']);
    } finally {
      await gh.close();
    }
  });

  it('refuses a password argument, a weak password, a taken email and an unknown role', async () => {
    const taken = newAccount('taken');
    expect((await cli(['user:create', '--email', taken.email], taken.password)).code).toBe(0);
    const asArgument = await cli(['user:create', '--email', 'x@example.test', '--password', 'Secret-Pass-123'], '');
    expect(asArgument.code).toBe(2);
    expect(asArgument.stderr).toMatch(/--password/);
    const weak = await cli(['user:create', '--email', 'weak@example.test'], 'password\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/password refused/);
    const again = await cli(['user:create', '--email', taken.email.toUpperCase()], taken.password);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
    const role = await cli(['user:create', '--email', 'role@example.test', '--role', 'emperor'], 'Secret-Pass-123');
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/emperor/);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('asks at a hidden prompt on a terminal, echoing nothing typed', async () => {
    const account = newAccount('tty');
    const command = `${process.execPath} server/cli.ts user:create --email ${account.email}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let answered = 0;
    child.stdout.on('data', (d) => {
      out += d;
      // Answer each prompt once, as a person would.
      const prompts = (out.match(/[Pp]assword: /g) ?? []).length;
      while (answered < prompts) {
        answered += 1;
        child.stdin.write(`${account.password}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/created user/);
    expect(out).not.toContain(account.password);
  });
});
