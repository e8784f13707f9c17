// Starts the real service on a loopback port: the same createDeps and createApp as main.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { createDeps, type Deps, type DepsOptions } from '../../server/deps.ts';
import { createLogger } from '../../server/logger.ts';
import { operator } from '../../server/services/rbac.ts';
import { createContext } from '../../server/trpc/context.ts';
import { createCallerFactory } from '../../server/trpc/init.ts';
import { appRouter } from '../../server/trpc/router.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { captureLogLines, recordSecret, recordSecretsIn } from './log-capture.ts';

export const TEST_META = { ip: '203.0.113.7', userAgent: 'gatehouse-tests/1.0' };

export interface TestServer {
  url: string;
  deps: Deps;
  database: TestDatabase;
  keysDir: string;
  /** Everything the service logged, one JSON line each. */
  logs: string[];
  caller(options?: { authorization?: string | null; meta?: typeof TEST_META }): Caller;
  close(): Promise<void>;
}

export interface TestServerOptions extends DepsOptions {
  env?: Record<string, string>;
  database?: TestDatabase;
  keysDir?: string;
  /** Leave the database and keys in place on close (restart tests). */
  keep?: boolean;
  /** Listen on this port (a restart keeps its issuer); a free one by default. */
  port?: number;
}

const createCaller = createCallerFactory(appRouter);
type Caller = ReturnType<typeof createCaller>;

/**
 * The caller, recording for the run-wide log guard every secret it sends and receives, as trpcHttp
 * does on the wire: a test that calls a procedure directly still has its tokens searched for in the
 * logs. tRPC's caller is a proxy of functions, one per path segment; each call goes through here.
 */
function recording<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key);
      return typeof value === 'function' ? recording(value) : value;
    },
    async apply(procedure, self, args) {
      recordSecretsIn(args);
      const result: unknown = await Reflect.apply(procedure as (...args: unknown[]) => unknown, self, args);
      recordSecretsIn(result);
      return result;
    },
  });
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const keysDir = options.keysDir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-keys-')));
  const server: Server = createServer();
  let url: string;
  let deps: Deps;
  const logs: string[] = [];
  try {
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = loadConfig({
      NODE_ENV: 'test',
      PUBLIC_URL: url,
      DATABASE_URL: database.url,
      KEYS_DIR: keysDir,
      BCRYPT_COST: '4',
      LOG_LEVEL: 'info',
      ...options.env,
    });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        const lines = String(chunk).split('\n').filter(Boolean);
        logs.push(...lines);
        captureLogLines(lines);
        done();
      },
    });
    deps = await createDeps(config, {
      log: createLogger(config.logLevel, sink),
      purgeIntervalMs: 0,
      ...options,
      // Test files sign up dozens of accounts from one address; the sign-up limit has its own tests.
      rateLimits: { register_ip: { points: 10_000 }, ...options.rateLimits },
    });
  } catch (error) {
    // A start that fails (a refused configuration) leaves no socket, database or private keys
    // behind: only what the caller handed in stays.
    server.close();
    if (!options.database) await database.drop();
    if (!options.keysDir) await rm(keysDir, { recursive: true, force: true });
    throw error;
  }
  server.on('request', createApp(deps));

  return {
    url,
    deps,
    database,
    keysDir,
    logs,
    caller: ({ authorization = null, meta = TEST_META } = {}) => recording(createCaller(createContext(deps, { meta, authorization }))),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.close();
      if (!options.keep) {
        await database.drop();
        if (!options.keysDir) await rm(keysDir, { recursive: true, force: true });
      }
    },
  };
}

/** POSTs a tRPC mutation (or GETs a query) over HTTP and returns status, headers and body. */
export async function trpcHttp(
  url: string,
  path: string,
  input: unknown,
  { method = 'POST', headers = {} }: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const target =
    method === 'GET'
      ? `${url}/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
      : `${url}/trpc/${path}`;
  const response = await fetch(target, {
    method,
    headers: { 'content-type': 'application/json', 'user-agent': TEST_META.userAgent, ...headers },
    ...(method === 'POST' ? { body: JSON.stringify(input ?? {}) } : {}),
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  recordSecretsIn(input);
  recordSecretsIn(body);
  recordSecret(headers.authorization?.replace(/^Bearer /, ''));
  return { status: response.status, headers: response.headers, body };
}

let counter = 0;
/** A unique address and a password that passes the standard policy. */
export function newAccount(prefix = 'user'): { email: string; password: string } {
  counter += 1;
  recordSecret(`Correct-Horse-${counter}-Battery`);
  return { email: `${prefix}.${process.pid}.${counter}.${Date.now()}@example.test`, password: `Correct-Horse-${counter}-Battery` };
}

/** The tokens of a sign-in that asked for no second factor; a challenge fails the test. */
export function tokensOf<T>(result: T): Extract<T, { accessToken: string }> {
  if (typeof result !== 'object' || result === null || !('accessToken' in result)) throw new Error(`expected tokens, got ${JSON.stringify(result)}`);
  return result as Extract<T, { accessToken: string }>;
}

/** Creates a user with `roles` directly and signs them in through auth.login. */
export async function signIn(gh: TestServer, roles: string[] = ['user'], account = newAccount(roles[0]), meta = TEST_META) {
  await gh.deps.userAdmin.create({ ...account, roles }, operator(meta));
  const tokens = tokensOf(await gh.caller({ meta }).auth.login(account));
  const authorization = `Bearer ${tokens.accessToken}`;
  return { account, tokens, user: tokens.user, authorization, caller: gh.caller({ authorization, meta }) };
}
