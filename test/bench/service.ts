// Gatehouse under test: the bundle `npm start` runs (dist/main.js, built once per run from the
// sources as they are) in its own process, configured only through the environment, as an operator runs it.
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../server/build/build.ts';
import { generateSigningKey } from '../../server/common/jwk.ts';
import { freePort, ROOT, startChild, type Child } from './processes.ts';

/** The OAuth client of the token endpoint scenario, loaded from CLIENTS_FILE. */
export const BENCH_CLIENT = { id: 'bench-cc', secret: 'bench-client-secret-0123456789-abcdefghij' };

/**
 * A distinct client address per account, sent as X-Forwarded-For with TRUST_PROXY=true, so that
 * per-IP limits see many clients, as in production, rather than one loopback address. The
 * addresses are from 198.18.0.0/15, the range set aside for benchmarks (RFC 2544); nothing is
 * ever sent to them.
 */
export function clientIp(i: number): string {
  return `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;
}

export interface ServiceOptions {
  databaseUrl: string;
  bcryptCost: number;
  /** Reuse a keys directory (the references verify with the same keys); a fresh one otherwise. */
  keysDir?: string;
  profileDir?: string | null;
}

export interface Service extends Child {
  keysDir: string;
  issuer: string;
  audience: string;
  /** Stops the process and removes the keys directory it made. */
  stop(): Promise<void>;
}

let built: Promise<unknown> | undefined;

/** Node's flags in package.json's start script (`node <flags> dist/main.js`), but for .env: the
 *  service's environment is the bench's alone. */
async function startFlags(): Promise<string[]> {
  const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = scripts.start.split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'dist/main.js') throw new Error(`the start script is not "node [flags] dist/main.js": ${scripts.start}`);
  return words.slice(1, -1).filter((flag) => !flag.startsWith('--env-file'));
}

export async function startService(options: ServiceOptions): Promise<Service> {
  await (built ??= build());
  const flags = await startFlags();
  const work = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
  const keysDir = options.keysDir ?? join(work, 'keys');
  const clientsFile = join(work, 'clients.json');
  await writeFile(
    clientsFile,
    JSON.stringify([{ client_id: BENCH_CLIENT.id, client_secret: BENCH_CLIENT.secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api' }]),
  );
  // The references sign and verify with the service's own private keys: handed to it as the files of
  // an install from before keys moved into the database, which its first start imports.
  const jwksFile = join(keysDir, 'jwks.json');
  if (!(await access(jwksFile).then(() => true, () => false))) {
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    await writeFile(jwksFile, JSON.stringify({ keys: [await generateSigningKey('ES256'), await generateSigningKey('RS256')] }), { mode: 0o600 });
  }
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  let child: Child;
  try {
    child = await startChild({
      name: 'gatehouse',
      script: 'dist/main.js',
      port,
      readyPath: '/readyz',
      nodeFlags: [...flags, ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, '--cpu-prof-name=gatehouse.${pid}.cpuprofile'] : [])],
      env: {
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        DATABASE_URL: options.databaseUrl,
        KEYS_DIR: keysDir,
        CLIENTS_FILE: clientsFile,
        BCRYPT_COST: String(options.bcryptCost),
        TRUST_PROXY: 'true',
        LOG_LEVEL: 'warn',
      },
    });
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
  return {
    ...child,
    keysDir,
    issuer: `${publicUrl}/oidc`,
    audience: `${publicUrl}/api`,
    async stop() {
      await child.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  user: { id: string };
}

export async function trpcMutation<T>(url: string, path: string, input: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!response.ok || !body.result) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(body.error ?? body)}`);
  return body.result.data;
}

/** Signs every account in through auth.login, a few at a time, each from its own client address. */
export async function signInAll(url: string, emails: string[], password: string, concurrency = 8): Promise<TokenSet[]> {
  const out: TokenSet[] = new Array(emails.length);
  let next = 0;
  const worker = async () => {
    while (next < emails.length) {
      const i = next++;
      out[i] = await trpcMutation<TokenSet>(url, 'auth.login', { email: emails[i], password }, { 'x-forwarded-for': clientIp(i) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, emails.length) }, worker));
  return out;
}
