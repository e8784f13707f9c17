// Reference for me.get and auth.verify: the least a tRPC endpoint behind a bearer token can do.
// Koa hands the request to tRPC's node adapter (as the service does), jose verifies the JWT against
// a local copy of the service's public keys with the same checks, and me.get reads the user with
// one primary-key SELECT through the same Drizzle driver (db/client.ts). jwt.get is the same
// endpoint without the SELECT: the ceiling set by HTTP, tRPC and the signature alone.
//
// env: PORT, DATABASE_URL (the bench database; for PGlite a directory of its own), JWKS_FILE (the
// service's public JWK set), ISSUER, AUDIENCE, SEED_USERS (PGlite only: users to insert).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { initTRPC, TRPCError } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import { eq, sql } from 'drizzle-orm';
import { createLocalJWKSet, jwtVerify } from 'jose';
import Koa from 'koa';
import { openDatabase } from '../../../db/client.ts';
import { users } from '../../../db/schema/index.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const url = env('DATABASE_URL');
const pglite = url.startsWith('pglite:');
const database = await openDatabase(pglite ? { driver: 'pglite', dataDir: url.slice('pglite:'.length) } : { driver: 'postgres', url }, { migrate: pglite });
const { db } = database;
if (pglite && process.env.SEED_USERS) {
  // PGlite belongs to one process: the reference gets its own copy of the users it will be asked for.
  const seeded = JSON.parse(await readFile(process.env.SEED_USERS, 'utf8')) as { id: string; email: string; name: string | null }[];
  for (const u of seeded) await db.execute(sql`insert into users (id, email, password_hash, name) values (${u.id}, ${u.email}, 'x', ${u.name})`);
}

const jwks = createLocalJWKSet(JSON.parse(await readFile(env('JWKS_FILE'), 'utf8')));
const issuer = env('ISSUER');
const audience = env('AUDIENCE');

// Prepared once, as the service prepares its per-request statement: the reference is the ceiling.
const byId = db.select().from(users).where(eq(users.id, sql.placeholder('id'))).limit(1).prepare('reference_user');

const t = initTRPC.context<{ authorization: string | null }>().create();
const authed = t.procedure.use(async ({ ctx, next }) => {
  const token = ctx.authorization?.startsWith('Bearer ') ? ctx.authorization.slice(7) : null;
  const claims = token
    ? await jwtVerify(token, jwks, { algorithms: ['ES256', 'RS256'], typ: 'at+jwt', issuer, audience, clockTolerance: 5, requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'] }).then(
        (r) => r.payload,
        () => null,
      )
    : null;
  if (!claims?.sub) throw new TRPCError({ code: 'UNAUTHORIZED' });
  return next({ ctx: { sub: claims.sub, claims } });
});

const router = t.router({
  me: t.router({
    get: authed.query(async ({ ctx }) => {
      const [row] = await byId.execute({ id: ctx.sub });
      if (!row) throw new TRPCError({ code: 'UNAUTHORIZED' });
      return { id: row.id, email: row.email, name: row.name, emailVerified: row.emailVerified, isActive: row.isActive, createdAt: row.createdAt.toISOString() };
    }),
  }),
  jwt: t.router({
    get: authed.query(({ ctx }) => ({ sub: ctx.sub, scope: ctx.claims.scope ?? '', exp: ctx.claims.exp })),
  }),
});

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/healthz') {
    ctx.body = { status: 'ok' };
    return;
  }
  ctx.respond = false;
  ctx.res.statusCode = 200;
  await nodeHTTPRequestHandler({
    router,
    req: ctx.req,
    res: ctx.res,
    path: ctx.path.slice('/trpc/'.length),
    createContext: () => ({ authorization: ctx.get('authorization') || null }),
  });
});
const server = createServer(app.callback());
server.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => void database.close().then(() => process.exit(0)));
  server.closeAllConnections();
});
