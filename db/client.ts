// One factory for both drivers: postgres-js for a PostgreSQL server, PGlite (embedded) otherwise.
// The rest of the code sees one Drizzle type and one migration set.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
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

// Held while migrations run, so that instances starting together apply them once, one after another.
const MIGRATIONS_LOCK = 0x67686d67;

export interface OpenOptions {
  /** Apply pending migrations (default); when false, pending migrations are refused. */
  migrate?: boolean;
  /** Told of each migration applied, in order. */
  onApplied?: (name: string) => void;
}

export class PendingMigrationsError extends Error {
  readonly pending: string[];
  constructor(pending: string[]) {
    super(`the database lacks ${pending.length} migration(s) (${pending.join(', ')}): run \`gatehouse migrate\`, or start with MIGRATE_ON_START=true`);
    this.pending = pending;
  }
}

/** The migrations newer than the last one applied (`lastApplied`: its journal time, null for none). */
async function pendingAfter(lastApplied: number | null): Promise<string[]> {
  const journal = JSON.parse(await readFile(`${migrationsFolder}/meta/_journal.json`, 'utf8')) as { entries: { tag: string; when: number }[] };
  return journal.entries.filter((e) => lastApplied === null || e.when > lastApplied).map((e) => e.tag);
}

type Rows = (text: string) => Promise<Record<string, unknown>[]>;

async function lastApplied(query: Rows): Promise<number | null> {
  const [found] = await query(`select to_regclass('drizzle.__drizzle_migrations')::text as t`);
  if (!found?.t) return null;
  const [row] = await query('select max(created_at)::text as last from drizzle.__drizzle_migrations');
  return row?.last == null ? null : Number(row.last);
}

/** Applies what is pending with `apply` (drizzle's migrator: all of it in one transaction, so a process
 *  killed midway leaves nothing half-done), or refuses when `migrate` is off. */
async function bringUpToDate(query: Rows, apply: () => Promise<void>, { migrate = true, onApplied }: OpenOptions): Promise<void> {
  const pending = await pendingAfter(await lastApplied(query));
  if (pending.length === 0) return;
  if (!migrate) throw new PendingMigrationsError(pending);
  await apply();
  for (const name of pending) onApplied?.(name);
}

async function migratePostgresUnderLock(url: string, applicationName: string, options: OpenOptions): Promise<void> {
  // A connection of its own: a session lock belongs to one connection, and goes when it closes or dies.
  const lockHolder = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, connection: { application_name: `${applicationName}-migrate` } });
  const query: Rows = (text) => lockHolder.unsafe(text) as unknown as Promise<Record<string, unknown>[]>;
  try {
    if (options.migrate !== false) await lockHolder`select pg_advisory_lock(${MIGRATIONS_LOCK})`;
    await bringUpToDate(query, () => migratePostgres(drizzlePostgres(lockHolder), { migrationsFolder }), options);
  } finally {
    await lockHolder.end({ timeout: 5 });
  }
}

export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  if (target.driver === 'postgres') {
    const max = target.poolSize ?? 10;
    // A name per pool, so that pg_stat_activity tells this instance's connections from others'.
    const applicationName = `gatehouse-${randomBytes(6).toString('hex')}`;
    await migratePostgresUnderLock(target.url, applicationName, options);
    const client = postgres(target.url, { max, onnotice: () => {}, connect_timeout: 10, connection: { application_name: applicationName } });
    const db = drizzlePostgres(client, { schema });
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
  try {
    await bringUpToDate(async (text) => (await client.query<Record<string, unknown>>(text)).rows, () => migratePglite(db, { migrationsFolder }), options);
  } catch (error) {
    await client.close();
    throw error;
  }
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
