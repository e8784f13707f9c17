// .env: the npm scripts that run the service and the CLI read it when present, through Node's own
// flag; a variable of the environment wins over the file, and a missing file is no error.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/child.ts';
import { captureLogLines } from '../helpers/log-capture.ts';

const root = new URL('../../', import.meta.url).pathname;
const scripts: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;
/** The Node flags of `npm start`, as a script line spells them. */
const startFlags = scripts.start!.split(/\s+/).filter((word) => word.startsWith('--'));

let dir: string;
let keysDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-env-file-'));
  // One key set for both starts: only the first pays for making it.
  keysDir = join(dir, 'keys');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** server/main.ts with `npm start`'s flags, in `cwd`; resolves once it listens, with its start line. */
async function startIn(cwd: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [...startFlags, join(root, 'server/main.ts')], {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', BCRYPT_COST: '4', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      captureLogLines([line]);
      if (line.includes('"gatehouse listening"')) resolve(JSON.parse(line));
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
  return { started, stop: () => (child.kill('SIGTERM'), exited) };
}

describe('.env', () => {
  it('is read by npm start and npm run cli, and git-ignored', () => {
    for (const name of ['start', 'cli']) expect(scripts[name], name).toMatch(/^node .*--env-file-if-exists=\.env /);
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toMatch(/^\/?\.env$/m);
  });

  it('configures the service from the file in the working directory; the environment wins over it', async () => {
    const cwd = await mkdtemp(join(dir, 'with-'));
    const port = await freePort();
    await writeFile(
      join(cwd, '.env'),
      [`# a comment`, `PORT=${port}`, `PUBLIC_URL="http://127.0.0.1:${port}"`, 'DATABASE_URL=pglite://memory', `KEYS_DIR=${keysDir}`, 'LOG_LEVEL=silent', ''].join('\n'),
    );
    // LOG_LEVEL=silent in the file would hide the start line: the environment's value must win.
    const server = await startIn(cwd, { LOG_LEVEL: 'info' });
    try {
      expect(server.started).toMatchObject({ port, url: `http://127.0.0.1:${port}` });
      const discovery = await fetch(`http://127.0.0.1:${port}/oidc/.well-known/openid-configuration`);
      expect((await discovery.json()).issuer).toBe(`http://127.0.0.1:${port}/oidc`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it('is optional', async () => {
    const cwd = await mkdtemp(join(dir, 'without-'));
    const port = await freePort();
    const server = await startIn(cwd, { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATABASE_URL: 'pglite://memory', KEYS_DIR: keysDir });
    try {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);
});
