// The database of one bench run: PGlite in a temporary directory, or a fresh database with a random
// name on a PostgreSQL server (which is shared, so it is dropped afterwards).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

export interface BenchDatabase {
  driver: 'pglite' | 'postgres';
  /** DATABASE_URL for the service. */
  url: string;
  drop(): Promise<void>;
}

/** `server` is 'pglite' or the URL of a PostgreSQL server on which the user may create databases. */
export async function createBenchDatabase(server: string, label = 'bench'): Promise<BenchDatabase> {
  if (server === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), `gatehouse-${label}-pglite-`));
    return { driver: 'pglite', url: `pglite:${dir}`, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `gatehouse_${label}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    driver: 'postgres',
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const sql = postgres(server, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end();
      }
    },
  };
}
