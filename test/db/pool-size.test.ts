// DATABASE_POOL_SIZE caps this instance's PostgreSQL connections, as the server itself counts them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from '../helpers/child.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

const title = usingPostgres ? 'DATABASE_POOL_SIZE' : 'DATABASE_POOL_SIZE (skipped: needs PostgreSQL; set TEST_DATABASE_URL)';

describe.skipIf(!usingPostgres)(title, () => {
  let database: TestDatabase;
  let keysDir: string;
  let admin: postgres.Sql;
  beforeAll(async () => {
    database = await createTestDatabase();
    keysDir = await mkdtemp(join(tmpdir(), 'gatehouse-pool-'));
    admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin?.end();
    await database?.drop();
    if (keysDir) await rm(keysDir, { recursive: true, force: true });
  });

  /** Connections to the test database now, whoever holds them: only the instance under test does. */
  const connections = async () => {
    const name = new URL(database.url).pathname.slice(1);
    const [row] = await admin<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = ${name}`;
    return row!.n;
  };

  /** Starts an instance, keeps it busy with concurrent database work, and reports what it used. */
  async function underLoad(env: Record<string, string>) {
    const server = await startChild({ DATABASE_URL: database.url, KEYS_DIR: keysDir, ...env });
    try {
      // Readiness pings the database: many at once want more connections than a small pool has.
      for (let round = 0; round < 5; round += 1) {
        const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${server.url}/readyz`)));
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      }
      const used = await connections();
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const max = Number(/^gatehouse_db_pool_connections\{state="max"\} (\d+)$/m.exec(text)?.[1]);
      return { used, max };
    } finally {
      expect(await server.kill()).toBe(0);
    }
  }

  it('opens no more connections than DATABASE_POOL_SIZE, and the metric reports it', async () => {
    const small = await underLoad({ DATABASE_POOL_SIZE: '3' });
    expect(small.max).toBe(3);
    expect(small.used).toBeGreaterThan(0);
    expect(small.used).toBeLessThanOrEqual(3);
    // The same load with the default pool does open more: the cap above is the setting's doing.
    const standard = await underLoad({});
    expect(standard.max).toBe(10);
    expect(standard.used).toBeGreaterThan(3);
    expect(standard.used).toBeLessThanOrEqual(10);
  }, 90_000);
});
