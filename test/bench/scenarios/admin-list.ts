// admin.users.list with a search over 1,000,000 users on PostgreSQL, seeded with generate_series
// rather than through the API. Names repeat a hundred surnames, so the search term matches 1% of
// the users (10,000): enough for a long cursor walk. Latency is measured one request at a time,
// for the first page and for a page 8,000 rows deep, reached by walking the cursor from the start.
import postgres from 'postgres';
import type { BenchContext } from '../context.ts';
import { load, type LoadResult } from '../load.ts';
import { round, median, type ScenarioResult } from '../report.ts';
import { ADMIN_EMAIL, BENCH_PASSWORD } from '../seed.ts';
import { clientIp, trpcMutation, type TokenSet } from '../service.ts';

export const ADMIN_USERS = 1_000_000;
const SEARCH = 'lovelace';
const PAGE = 20;
const WALK_PAGE = 100;
const DEEP_ROW = 8_000;

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Dennis', 'Ken', 'Frances', 'John', 'Radia', 'Tim', 'Sophie', 'Niklaus', 'Leslie', 'Shafi', 'Tony', 'Anita', 'Judea'];
// A hundred surnames, none of which contains another's letters in a row as long as the search term.
const LAST = `Lovelace Hopper Turing Dijkstra Liskov Knuth Hamilton Ritchie Thompson Allen Backus Perlman Berners Wilson Wirth Lamport
  Goldwasser Hoare Borg Pearl Abbott Baker Carter Dalton Ellis Fisher Garcia Harper Ingram Jensen Keller Larsen Morgan Nolan Ortiz Palmer
  Quinn Reyes Sutton Tucker Underwood Vance Walsh Xavier Young Zimmer Archer Bishop Cole Drake Emerson Foster Gibson Hayes Irwin Jordan
  Kemp Lowe Mercer Nash Oakley Pratt Reed Sawyer Tate Upton Vaughn Wade Yates Zeller Ashby Brooks Conway Dyson Eaton Frost Grant Holt Ives
  Joyce Knox Lyle Mayer Noble Olsen Pike Rowe Stone Thorne Usher Voss Ward York Zane Avery Blake Cross Dunn Esposito Flynn`.split(/\s+/);

async function seedMillion(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const started = performance.now();
  try {
    await sql`
      insert into users (email, password_hash, name, created_at)
      select 'member' || i || '@bench.example', 'not-a-hash',
        (${FIRST}::text[])[1 + i % 20] || ' ' || (${LAST}::text[])[1 + (i / 20) % 100],
        timestamptz '2026-01-01' + make_interval(secs => i)
      from generate_series(1, ${ADMIN_USERS}::int) as i`;
    await sql`analyze users`;
  } finally {
    await sql.end();
  }
  return performance.now() - started;
}

function listPath(cursor: string | null, limit: number): string {
  const input = { search: SEARCH, limit, ...(cursor ? { cursor } : {}) };
  return `/trpc/admin.users.list?input=${encodeURIComponent(JSON.stringify(input))}`;
}

interface Page {
  items: unknown[];
  nextCursor: string | null;
  total: number;
}

export async function adminUsersList(ctx: BenchContext): Promise<ScenarioResult> {
  const { service, options, database } = ctx;
  const base = { name: 'admin.users.list' as const, throughput: null, p50Ms: null, p99Ms: null, reference: null, ratio: null, target: 50 };
  if (database.driver !== 'postgres') {
    return { ...base, skipped: true, note: 'needs PostgreSQL (1,000,000 users seeded with generate_series): run with --db postgres://…' };
  }
  ctx.log(`seeding ${ADMIN_USERS.toLocaleString('en')} users with generate_series`);
  const seedMs = await seedMillion(database.url);
  const admin = await trpcMutation<TokenSet>(service.url, 'auth.login', { email: ADMIN_EMAIL, password: BENCH_PASSWORD }, { 'x-forwarded-for': clientIp(60_000) });
  const headers = { authorization: `Bearer ${admin.accessToken}`, 'x-forwarded-for': clientIp(60_001) };

  // Walk the cursor to DEEP_ROW, timing every page on the way.
  const walk: number[] = [];
  let cursor: string | null = null;
  let total = 0;
  for (let row = 0; row < DEEP_ROW; row += WALK_PAGE) {
    const started = performance.now();
    const response = await fetch(service.url + listPath(cursor, WALK_PAGE), { headers });
    const body = (await response.json()) as { result?: { data: Page } };
    walk.push(performance.now() - started);
    if (!response.ok || !body.result?.data.nextCursor) throw new Error(`admin.users.list walk stopped at row ${row}: ${response.status}`);
    cursor = body.result.data.nextCursor;
    total = body.result.data.total;
  }

  const sample = (path: string): Promise<LoadResult> =>
    load({ url: service.url, duration: options.duration, connections: 1, serverPid: service.pid, setupRequest: (request) => ({ ...request, method: 'GET', path, headers }) });
  const first = await sample(listPath(null, PAGE));
  const deep = await sample(listPath(cursor, PAGE));
  const tenth = Math.max(1, Math.floor(walk.length / 10));
  const walkFirstMs = round(median(walk.slice(0, tenth)), 2);
  const walkLastMs = round(median(walk.slice(-tenth)), 2);
  return {
    ...base,
    throughput: first.throughput,
    p50Ms: first.p50Ms,
    p95Ms: first.p95Ms,
    p99Ms: first.p99Ms,
    deepP50Ms: deep.p50Ms,
    deepP95Ms: deep.p95Ms,
    deepP99Ms: deep.p99Ms,
    deepRow: DEEP_ROW,
    // No growth: the deep page costs what the first one does, give or take noise.
    growthOk: deep.p95Ms <= first.p95Ms * 1.25 + 2,
    walkFirstPagesMs: walkFirstMs,
    walkLastPagesMs: walkLastMs,
    users: ADMIN_USERS,
    search: SEARCH,
    matches: total,
    pageSize: PAGE,
    seedMs: Math.round(seedMs),
    failures: first.failures + deep.failures,
    note: `one request at a time; p95 target < 50 ms on the first page and ${DEEP_ROW} rows deep; walk of ${WALK_PAGE}-row pages timed first tenth vs last tenth`,
  };
}
