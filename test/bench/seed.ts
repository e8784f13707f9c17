// Seeding straight into the database, before the service starts (PGlite allows one process at a
// time). One bcrypt hash is shared by many users: the cost of a verify is in the hash, so users
// meant to be signed in cheaply for the token scenarios carry a cost-4 hash, and the users of the
// login scenario carry a hash at the configured BCRYPT_COST.
import { hash } from '@node-rs/bcrypt';
import { sql } from 'drizzle-orm';
import { openDatabase, type Db } from '../../db/client.ts';

export const BENCH_PASSWORD = 'Bench-Password-1';
export const ADMIN_EMAIL = 'bench-admin@bench.test';
export const loginEmail = (i: number) => `bench-login-${i}@bench.test`;
export const tokenEmail = (i: number) => `bench-token-${i}@bench.test`;

export interface SeedPlan {
  /** Users for the login scenario, with a hash at `cost`. */
  loginUsers: number;
  cost: number;
  /** Users signed in once through the API to get tokens for me.get, auth.verify and refresh. */
  tokenUsers: number;
}

export interface SeededUser {
  id: string;
  email: string;
  name: string | null;
}

async function insertUsers(db: Db, prefix: string, count: number, passwordHash: string): Promise<void> {
  if (count === 0) return;
  await db.execute(sql`
    insert into users (email, password_hash, name)
    select ${prefix} || i || '@bench.test', ${passwordHash}, 'Bench user ' || i
    from generate_series(1, ${count}::int) as i`);
}

/** Applies the migrations and seeds the users; returns the token users (the reference needs them). */
export async function seed(url: string, plan: SeedPlan): Promise<SeededUser[]> {
  const target = url.startsWith('pglite:') ? ({ driver: 'pglite', dataDir: url.slice('pglite:'.length) } as const) : ({ driver: 'postgres', url } as const);
  const database = await openDatabase(target);
  try {
    const { db } = database;
    const cheap = await hash(BENCH_PASSWORD, { cost: 4 });
    await insertUsers(db, 'bench-token-', plan.tokenUsers, cheap);
    if (plan.loginUsers > 0) await insertUsers(db, 'bench-login-', plan.loginUsers, await hash(BENCH_PASSWORD, { cost: plan.cost }));
    await db.execute(sql`insert into users (email, password_hash, name) values (${ADMIN_EMAIL}, ${cheap}, 'Bench admin')`);
    await db.execute(sql`
      insert into user_roles (user_id, role_id)
      select u.id, r.id from users u join roles r on r.name = 'user' where u.email like 'bench-%'`);
    await db.execute(sql`
      insert into user_roles (user_id, role_id)
      select u.id, r.id from users u join roles r on r.name = 'admin' where u.email = ${ADMIN_EMAIL}`);
    const rows = await db.execute(sql`select id, email, name from users where email like 'bench-token-%'`);
    return (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as SeededUser[];
  } finally {
    await database.close();
  }
}
