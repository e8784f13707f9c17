// `gatehouse user:reset-mfa --email E`: the operator clears the second factor of a user who lost
// both the app and the recovery codes. The CLI runs as a child process against the same database and
// KEYS_DIR as the test server; a PGlite directory has one process at a time, so the server is closed
// while the CLI runs. Each CLI run opens the database and KEYS_DIR anew: seconds, hence the timeouts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoginResult } from '../../client/src/index.ts';
import { cliEnv, runCli } from '../helpers/child.ts';
import { createPersistentTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';
import { nextCode } from '../helpers/totp.ts';

let dir: string;
let keysDir: string;
let database: TestDatabase;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-reset-mfa-'));
  keysDir = join(dir, 'keys');
  database = await createPersistentTestDatabase(join(dir, 'pglite'));
  env = cliEnv(database.url, keysDir);
});
afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { env });

/** A server on the shared database and keys, closed (the database kept) when `run` is done. */
async function withServer<T>(run: (gh: TestServer) => Promise<T>): Promise<T> {
  const gh = await startTestServer({ database, keysDir, keep: true });
  try {
    return await run(gh);
  } finally {
    await gh.close();
  }
}

describe('gatehouse user:reset-mfa', () => {
  it("clears a user's factor: the next sign-in gets tokens at once, and the reset is audited", async () => {
    const account = newAccount('lost-phone');
    const { userId, secret, challenge, recoveryCode } = await withServer(async (gh) => {
      const { user, caller } = await signIn(gh, ['user'], account);
      const { secret } = await caller.me.mfa.totp.begin();
      const { recoveryCodes } = await caller.me.mfa.totp.confirm({ code: await nextCode(secret) });
      const login = await gh.caller().auth.login(account);
      expect(login).toMatchObject({ mfaRequired: true });
      // A challenge left open when the factor is cleared.
      return { userId: user.id, secret, challenge: (login as { mfaToken: string }).mfaToken, recoveryCode: recoveryCodes[0]! };
    });

    // The address as an operator may type it: case does not matter.
    const run = await cli(['user:reset-mfa', '--email', account.email.toUpperCase()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`cleared the second factor of ${userId} <${account.email}>\n`);

    await withServer(async (gh) => {
      // Over HTTP, as a user signs in: the request is logged too, for the run's log-redaction guard.
      const login = await trpcHttp(gh.url, 'auth.login', account);
      expect(login.status).toBe(200);
      const tokens = tokensOf(login.body.result.data as LoginResult);
      expect(tokens.user).toMatchObject({ id: userId, mfaEnabled: false });
      const caller = gh.caller({ authorization: `Bearer ${tokens.accessToken}` });
      expect((await caller.me.get()).mfaEnabled).toBe(false);

      // The challenge issued before the reset is gone, with the codes that would have answered it.
      await expect(gh.caller().auth.verifyMfa({ mfaToken: challenge, code: await nextCode(secret) })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
      await expect(gh.caller().auth.verifyMfa({ mfaToken: challenge, recoveryCode })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

      const admin = await signIn(gh, ['admin']);
      const page = await admin.caller.admin.audit.list({ type: 'mfa_disabled', userId });
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({ type: 'mfa_disabled', userId, actorId: null, success: true, reason: 'admin_reset', metadata: { wasEnabled: true } });

      // The user can enrol again.
      const again = await caller.me.mfa.totp.begin();
      expect(again.secret).not.toBe(secret);
      await caller.me.mfa.totp.confirm({ code: await nextCode(again.secret) });
      expect((await caller.me.get()).mfaEnabled).toBe(true);
    });

    // For a script: the user as the admin API shows it, second factor cleared.
    const json = await cli(['user:reset-mfa', '--email', account.email, '--json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: userId, email: account.email, mfaEnabled: false });
  }, 180_000);

  it('refuses an unknown email with a message naming it, and changes nothing', async () => {
    const unknown = `nobody.${process.pid}.${Date.now()}@example.test`;
    const run = await cli(['user:reset-mfa', '--email', unknown]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`no user with the email ${unknown}`);

    const json = await cli(['user:reset-mfa', '--email', unknown, '--json']);
    expect(json.code).toBe(1);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'NOT_FOUND', message: `no user with the email ${unknown}` } });
  }, 60_000);

  it('exits 2 with the usage when --email is missing', async () => {
    const run = await cli(['user:reset-mfa']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--email is required/);
    expect(run.stderr).toContain('usage: gatehouse user:reset-mfa --email E');

    const stray = await cli(['user:reset-mfa', '--email', 'a@example.test', '--code', '123456']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--code/);
  }, 60_000);
});
