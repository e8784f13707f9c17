// One factory for both drivers: postgres-js for a PostgreSQL server, PGlite (embedded) otherwise.
// The rest of the code sees one Drizzle type and one migration set.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** poolSize: PostgreSQL connections of this instance, 10 unless given. */
export type DatabaseTarget = { driver: 'pglite'; dataDir: string | null } | { driver: 'postgres'; url: string; poolSize?: number };

export interface Database {
  db: Db;
  driver: DatabaseTarget['driver'];
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** This instance's connections: the pool size, and how many are busy or idle right now. */
  poolStats(): Promise<{ max: number; active: number; idle: number }>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export async function openDatabase(target: DatabaseTarget, { migrate = true } = {}): Promise<Database> {
  if (target.driver === 'postgres') {
    const max = target.poolSize ?? 10;
    // A name per pool, so that pg_stat_activity tells this instance's connections from others'.
    const applicationName = `gatehouse-${randomBytes(6).toString('hex')}`;
    const client = postgres(target.url, { max, onnotice: () => {}, connect_timeout: 10, connection: { application_name: applicationName } });
    const db = drizzlePostgres(client, { schema });
    if (migrate) await migratePostgres(db, { migrationsFolder });
    return {
      db: db as unknown as Db,
      driver: 'postgres',
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      poolStats: async () => {
        // postgres-js keeps its pool counts private; the server's view of this pool is public.
        const rows = await client<{ state: string | null; n: number }[]>`
          select state, count(*)::int as n from pg_stat_activity where application_name = ${applicationName} group by state`;
        const count = (state: string) => rows.find((r) => r.state === state)?.n ?? 0;
        return { max, active: count('active'), idle: count('idle') };
      },
      close: () => client.end({ timeout: 5 }),
    };
  }

  // Loaded only when used: a PostgreSQL deployment never pays for the embedded engine's code.
  const [{ PGlite }, { pg_trgm }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  if (target.dataDir) await mkdir(target.dataDir, { recursive: true });
  // pg_trgm backs the trigram indexes of users (migrations 0005 and 0006); PGlite loads it on CREATE EXTENSION.
  const extensions = { pg_trgm };
  const client = target.dataDir ? new PGlite(target.dataDir, { extensions }) : new PGlite({ extensions });
  const db = drizzlePglite(client, { schema });
  if (migrate) await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    driver: 'pglite',
    ping: async () => {
      if (client.closed) throw new Error('database is closed');
      await db.execute(sql`select 1`);
    },
    // One embedded connection, busy only while a query runs on it.
    poolStats: async () => ({ max: 1, active: 0, idle: client.closed ? 0 : 1 }),
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

/** PostgreSQL's unique_violation, through Drizzle's error wrapper on either driver. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
