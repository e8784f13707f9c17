// One database per test file: in-memory PGlite by default, or a fresh database with a random name
// on the PostgreSQL server of TEST_DATABASE_URL, dropped afterwards (the server is shared).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TestDatabase {
  /** DATABASE_URL for the service under test. */
  url: string;
  driver: 'pglite' | 'postgres';
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

function adminUrl(): string {
  return process.env.TEST_DATABASE_URL as string;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!usingPostgres) return { url: 'pglite://memory', driver: 'pglite', drop: async () => {} };
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    driver: 'postgres',
    async drop() {
      const sql = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await sql.end();
    },
  };
}

/** A PGlite directory or a PostgreSQL database that outlives one service instance. */
export async function createPersistentTestDatabase(dir: string): Promise<TestDatabase> {
  if (usingPostgres) return createTestDatabase();
  return { url: `pglite:${dir}`, driver: 'pglite', drop: async () => {} };
}
