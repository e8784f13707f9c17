// npm run bench: starts Gatehouse as its own process on a fresh database, loads it from this process
// with autocannon (127.0.0.1 only, every run bounded in time), and prints each scenario beside the
// reference it is measured against in the same run.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from './context.ts';
import { createBenchDatabase, type BenchDatabase } from './database.ts';
import { parseOptions, UsageError, USAGE, type Options, type ScenarioName } from './options.ts';
import { freePort, startChild, type Child } from './processes.ts';
import { profileFlags } from './profile.ts';
import { formatTable, machineInfo, type Report, type ScenarioResult } from './report.ts';
import { adminUsersList } from './scenarios/admin-list.ts';
import { authVerify, meGet } from './scenarios/api.ts';
import { clientVerify } from './scenarios/client-verify.ts';
import { LOGIN_USERS, login } from './scenarios/login.ts';
import { processFigures } from './scenarios/process.ts';
import { refresh } from './scenarios/refresh.ts';
import { tokenClientCredentials } from './scenarios/token.ts';
import { BENCH_PASSWORD, seed, tokenEmail } from './seed.ts';
import { signInAll, startService, type Service } from './service.ts';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

function failed(name: ScenarioName, error: unknown): ScenarioResult {
  return { name, throughput: null, p50Ms: null, p99Ms: null, reference: null, ratio: null, target: null, error: error instanceof Error ? error.message : String(error) };
}

/** How many sessions the token scenarios need: refresh drops the ones in flight when a run ends. */
function tokenUsersFor(options: Options): number {
  const base = Math.max(20, options.connections);
  return options.scenarios.includes('refresh') ? base + options.connections * (2 * options.rounds + 1) + 20 : base;
}

async function main(options: Options): Promise<Report> {
  const cleanup: (() => Promise<unknown>)[] = [];
  const runCleanup = async () => {
    for (const step of cleanup.reverse()) await step().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
    cleanup.length = 0;
  };
  process.once('SIGINT', () => void runCleanup().then(() => process.exit(130)));

  try {
    const work = await mkdtemp(join(tmpdir(), 'gatehouse-bench-run-'));
    cleanup.push(() => rm(work, { recursive: true, force: true }));
    const database: BenchDatabase = await createBenchDatabase(options.db);
    cleanup.push(() => database.drop());
    log(`database: ${database.driver}`);

    const tokenUsers = tokenUsersFor(options);
    const loginUsers = options.scenarios.includes('login') ? LOGIN_USERS : 0;
    log(`seeding ${tokenUsers + loginUsers + 1} users${loginUsers ? ` (${loginUsers} with a cost-${options.bcryptCost} hash)` : ''}`);
    const seededUsers = await seed(database.url, { loginUsers, cost: options.bcryptCost, tokenUsers });

    const service: Service = await startService({ databaseUrl: database.url, bcryptCost: options.bcryptCost, profileDir: options.profile });
    cleanup.push(() => service.stop());
    log(`service ready in ${Math.round(service.startupMs)} ms at ${service.url} (pid ${service.pid})`);

    const sessions = await signInAll(service.url, Array.from({ length: tokenUsers }, (_, i) => tokenEmail(i + 1)), BENCH_PASSWORD);
    await new Promise((r) => setTimeout(r, 1000));
    const idleMb = await service.rssMb();
    let peakMb: number | null = null;

    let reference: Promise<Child> | undefined;
    const ctx: BenchContext = {
      options,
      database,
      service,
      work,
      sessions,
      seededUsers,
      log,
      notePeakRss: (mb) => {
        if (mb !== null) peakMb = Math.max(peakMb ?? 0, mb);
      },
      jwtReference: () => {
        reference ??= (async () => {
          const jwksFile = join(work, 'jwks-public.json');
          await writeFile(jwksFile, await (await fetch(`${service.url}/oidc/jwks`)).text());
          const usersFile = join(work, 'reference-users.json');
          await writeFile(usersFile, JSON.stringify(seededUsers));
          const port = await freePort();
          const child = await startChild({
            name: 'reference (Koa + tRPC + jose)',
            script: 'test/bench/references/trpc-jose.ts',
            port,
            readyPath: '/healthz',
            nodeFlags: profileFlags(options, 'reference'),
            env: {
              PORT: String(port),
              DATABASE_URL: database.driver === 'pglite' ? `pglite:${join(work, 'reference-pglite')}` : database.url,
              SEED_USERS: usersFile,
              JWKS_FILE: jwksFile,
              ISSUER: service.issuer,
              AUDIENCE: service.audience,
            },
          });
          cleanup.push(() => child.stop());
          return child;
        })();
        return reference;
      },
    };

    const runners: Record<Exclude<ScenarioName, 'process'>, () => Promise<ScenarioResult>> = {
      login: () => login(ctx),
      'me.get': () => meGet(ctx),
      'auth.verify': () => authVerify(ctx),
      refresh: () => refresh(ctx),
      'token.client_credentials': () => tokenClientCredentials(ctx),
      'client.verify': () => clientVerify(ctx),
      'admin.users.list': () => adminUsersList(ctx),
    };
    const results: ScenarioResult[] = [];
    for (const name of options.scenarios) {
      log(`scenario ${name}`);
      const started = performance.now();
      try {
        results.push(name === 'process' ? await processFigures(ctx, { idleMb, peakMb }) : await runners[name]());
      } catch (error) {
        log(`scenario ${name} failed: ${(error as Error).stack ?? String(error)}`);
        results.push(failed(name, error));
      }
      log(`scenario ${name} took ${Math.round((performance.now() - started) / 1000)} s`);
    }
    return { machine: machineInfo(database.driver), scenarios: results };
  } finally {
    await runCleanup();
  }
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message ? `bench: ${error.message}\n` : ''}${USAGE}\n`);
  process.exit(error.message ? 2 : 0);
}
const report = await main(options);
process.stdout.write(`${formatTable(report)}\n`);
if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
process.exit(report.scenarios.some((s) => 'error' in s) ? 1 : 0);
