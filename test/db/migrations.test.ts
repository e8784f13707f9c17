// Migrations as an operator meets them: applied at start under a lock (one log line each), refused
// with MIGRATE_ON_START=false, applied by the `migrate` command, safe when instances start together
// and when a process dies halfway.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild, type ChildServer } from '../helpers/child.ts';
import { createPersistentTestDatabase, createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

const journal = JSON.parse(await readFile(new URL('../../db/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: { tag: string }[] };
const ALL = journal.entries.map((e) => e.tag);

const appliedIn = (logs: string[]) =>
  logs.map((line) => JSON.parse(line) as { msg: string; migration?: string }).filter((l) => l.msg === 'migration applied').map((l) => l.migration);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-migrations-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const envFor = (database: TestDatabase, name: string, extra: Record<string, string> = {}) => ({ DATABASE_URL: database.url, KEYS_DIR: join(dir, `keys-${name}`), ...extra });

function cli(env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, ['server/cli.ts', ...args], { env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env }, encoding: 'utf8' });
}

async function stopped(child: ChildServer): Promise<void> {
  const code = await child.kill();
  expect(code, child.logs.slice(-3).join('\n')).toBe(0);
}

// Each test starts several service processes: on PGlite a start is seconds.
describe('migrate on start', { timeout: 120_000 }, () => {
  it('logs each migration it applies, in order, and nothing on the next start', async () => {
    const database = await createPersistentTestDatabase(join(dir, 'on-start'));
    try {
      const first = await startChild(envFor(database, 'on-start'));
      expect(appliedIn(first.logs)).toEqual(ALL);
      await stopped(first);
      const second = await startChild(envFor(database, 'on-start'));
      expect(appliedIn(second.logs)).toEqual([]);
      await stopped(second);
    } finally {
      await database.drop();
    }
  });

  it('with MIGRATE_ON_START=false, refuses a database that lacks migrations until `migrate` applied them', async () => {
    const database = await createPersistentTestDatabase(join(dir, 'off'));
    try {
      const env = envFor(database, 'off', { MIGRATE_ON_START: 'false' });
      await expect(startChild(env)).rejects.toThrow(/lacks \d+ migration\(s\) \(0000_init, .*run `gatehouse migrate`/);

      const run = cli(env, 'migrate', '--json');
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ applied: ALL });
      const again = cli(env, 'migrate');
      expect(again.status).toBe(0);
      expect(again.stdout).toBe('the database is up to date\n');

      const child = await startChild(env);
      expect(appliedIn(child.logs)).toEqual([]);
      expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
      await stopped(child);
    } finally {
      await database.drop();
    }
  });

  it('refuses a MIGRATE_ON_START that is not true or false, naming it', () => {
    const run = cli({ DATABASE_URL: 'pglite://memory', MIGRATE_ON_START: 'maybe' }, 'migrate');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/MIGRATE_ON_START/);
  });
});

describe.skipIf(!usingPostgres)('migrations on a shared PostgreSQL', { timeout: 120_000 }, () => {
  it('two instances starting at once on an empty database both come up, and each migration runs once', async () => {
    const database = await createTestDatabase();
    try {
      // Separate KEYS_DIRs, one KEK: what instances on two hosts are given.
      const kek = { ENCRYPTION_KEY: randomBytes(32).toString('base64url') };
      const [a, b] = await Promise.all([startChild(envFor(database, 'twin-a', kek)), startChild(envFor(database, 'twin-b', kek))]);
      expect([...appliedIn(a.logs), ...appliedIn(b.logs)].sort()).toEqual([...ALL].sort());
      for (const child of [a, b]) expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
      // One key set, made by whichever came first.
      const kids = async (child: ChildServer) => ((await (await fetch(`${child.url}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid).sort();
      expect(await kids(a)).toEqual(await kids(b));
      await Promise.all([stopped(a), stopped(b)]);
    } finally {
      await database.drop();
    }
  });

  it('a process killed in the middle of migrating leaves the next start able to finish', async () => {
    const database = await createTestDatabase();
    const watcher = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const env = envFor(database, 'killed');
      const child = spawnChild(env);
      // Kill it while its migration transaction is open.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const open = await watcher`select 1 from pg_stat_activity where application_name like 'gatehouse-%-migrate' and xact_start is not null`;
        if (open.length > 0) break;
        if (Date.now() > deadline) throw new Error('never saw the migration transaction');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      // Nothing of it stayed: the migration transaction rolled back with the connection.
      const tables = await watcher`select count(*)::int as n from information_schema.tables where table_schema = 'public'`;
      expect(tables[0]!.n).toBe(0);

      const next = await startChild(env);
      expect(appliedIn(next.logs)).toEqual(ALL);
      expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
      await stopped(next);
    } finally {
      await watcher.end();
      await database.drop();
    }
  });
});

function spawnChild(env: Record<string, string>) {
  return spawn(process.execPath, ['server/main.ts'], { env: { PATH: process.env.PATH, NODE_ENV: 'test', BCRYPT_COST: '4', PORT: '0', ...env }, stdio: 'ignore' });
}
