// The published shape of client/: built into a consumer project that has only the package and its
// peers, it must import nothing of the server, work in browsers (no Node imports or types), and
// keep its types exact (a wrong input must fail to compile, not degrade to any).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(await readFile(join(repo, 'client/package.json'), 'utf8')) as {
  exports: Record<string, { default: string } | string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
/** What a consumer installs: the package's dependencies and peers, and its own compiler. */
const CONSUMER_MODULES = [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies), 'typescript'];

let consumer: string;
let dist: string;

beforeAll(async () => {
  consumer = await mkdtemp(join(tmpdir(), 'gatehouse-consumer-'));
  const pkg = join(consumer, 'node_modules/@gatehouse/client');
  dist = join(pkg, 'dist');
  // The build itself, as `npm run build:client` runs it, into the consumer's node_modules.
  await run(process.execPath, [join(repo, 'client/build/build.ts'), '--out-dir', dist], { cwd: repo });
  await copyFile(join(repo, 'client/package.json'), join(pkg, 'package.json'));
  for (const name of CONSUMER_MODULES) {
    await mkdir(dirname(join(consumer, 'node_modules', name)), { recursive: true });
    await symlink(join(repo, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
  }
}, 120_000);
afterAll(() => (consumer ? rm(consumer, { recursive: true, force: true }) : undefined));

const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g;
const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The bare specifiers reachable from an entry file, following relative imports (in .js and .d.ts alike). */
async function bareImportsFrom(entry: string): Promise<Set<string>> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier] of (await readFile(file, 'utf8')).matchAll(SPECIFIER)) {
      if (!specifier!.startsWith('.')) bare.add(packageName(specifier!));
      else for (const next of [resolve(dirname(file), specifier!), resolve(dirname(file), specifier!).replace(/\.js$/, '.d.ts')]) await visit(next);
    }
  };
  await visit(entry);
  await visit(entry.replace(/\.js$/, '.d.ts'));
  return bare;
}

describe('the client package', () => {
  it('emits imports of its own files and its declared dependencies only', async () => {
    const allowed = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const files = await filesUnder(dist);
    expect(files.some((f) => f.endsWith('app-router.d.ts'))).toBe(true);
    for (const file of files) {
      for (const [, specifier] of (await readFile(file, 'utf8')).matchAll(SPECIFIER)) {
        const where = `${relative(dist, file)} imports ${specifier}`;
        if (specifier!.startsWith('.')) {
          const target = resolve(dirname(file), specifier!);
          expect(relative(dist, target).startsWith('..'), where).toBe(false);
          expect(existsSync(target), where).toBe(true);
        } else {
          expect(allowed.has(packageName(specifier!)), where).toBe(true);
        }
      }
    }
  });

  it('keeps the verifier and middleware entries free of tRPC, and every entry free of Node built-ins', async () => {
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      const bare = await bareImportsFrom(join(dist, '..', target.default));
      expect([...bare].filter((name) => name.startsWith('node:')), entry).toEqual([]);
      if (entry !== '.') expect([...bare], entry).toEqual(['jose']);
    }
  });

  it('type-checks a consumer with only the package and its peers, without Node types', async () => {
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          // ESNext.Disposable is tRPC's own requirement of its consumers.
          lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
          types: [],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // Our declarations are checked too: one that names a module the consumer lacks fails here.
          skipLibCheck: false,
        },
        include: ['app.ts'],
      }),
    );
    await writeFile(join(consumer, 'app.ts'), CONSUMER_SOURCE);
    const tsc = join(consumer, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', consumer], { cwd: consumer }).catch((error: { stdout: string; stderr: string; code?: number }) => error);
    expect(result.stdout).toBe('');
    // tsc prints type errors on stdout; a compiler that did not run at all says so on stderr only.
    expect(result.stderr).toBe('');
    expect('code' in result ? result.code : 0).toBe(0);
  }, 60_000);

  it('loads in Node from the consumer project', async () => {
    const script = `
      const client = await import('@gatehouse/client');
      const verifier = await import('@gatehouse/client/verifier');
      const middleware = await import('@gatehouse/client/middleware');
      console.log(JSON.stringify([typeof client.createGatehouseClient, typeof client.isMfaChallenge, typeof verifier.createTokenVerifier, typeof middleware.requireToken, typeof middleware.toKoa]));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual(['function', 'function', 'function', 'function', 'function']);
  });
});

const CONSUMER_SOURCE = `
import { createGatehouseClient, isMfaChallenge, isTokenSet, type ProcedurePath, type TokenSet } from '@gatehouse/client';
import { createTokenVerifier, hasPermission, type AccessTokenClaims } from '@gatehouse/client/verifier';
import { requireToken, toExpress, toKoa, toNodeHttp } from '@gatehouse/client/middleware';

const client = createGatehouseClient({
  url: 'https://auth.example.com',
  onTokens: (tokens: TokenSet | null) => void tokens?.user.email.toLowerCase(),
});

export async function signIn(): Promise<string> {
  const result = await client.auth.login.mutate({ email: 'ada@example.com', password: 'Analytical-Engine-1843' });
  // @ts-expect-error: the answer may be a second-factor challenge, with no tokens: narrow it first
  void result.accessToken;
  const session = isMfaChallenge(result) ? await client.verifyMfa(result, { code: '123456' }) : isTokenSet(result) ? result : null;
  if (!session) throw new Error('set up a second factor first');
  // @ts-expect-error: email is a string
  await client.auth.login.mutate({ email: 1, password: 'x' });
  // @ts-expect-error: there is no such procedure
  await client.auth.impersonate.mutate({ id: session.user.id });
  const me = await client.me.get.query();
  // @ts-expect-error: the wire never carries a password hash
  void me.passwordHash;
  const lastLogin: string | null = me.lastLoginAt;
  return session.user.id + (lastLogin ?? '') + client.$tokens.get()?.accessToken;
}

export const paths: ProcedurePath[] = ['auth.login', 'me.get'];
// @ts-expect-error: not a procedure
export const typo: ProcedurePath = 'auth.lgoin';

const verifier = createTokenVerifier({ issuer: 'https://auth.example.com/oidc', audience: 'https://auth.example.com/api' });
// @ts-expect-error: symmetric algorithms are refused
createTokenVerifier({ issuer: 'https://auth.example.com/oidc', audience: 'x', algorithms: ['HS256'] });

export async function canReadUsers(token: string): Promise<boolean> {
  const result = await verifier.verify(token);
  if (!result.ok) return result.reason === 'expired' && false;
  const claims: AccessTokenClaims = result.claims;
  const sub: string = claims.sub;
  return sub !== '' && hasPermission(claims, 'users:read');
}

const guard = requireToken(verifier, { permission: 'users:read', userIdParam: 'userId' });
export const middleware = [toExpress(guard), toKoa(guard), toNodeHttp(guard)];
`;
