// The real entry points as child processes: server/main.ts (or a bundle of it) for shutdown,
// multi-instance and bundle tests, its log lines going to the run-wide capture (log-capture.ts) like
// in-process servers' do; and the `gatehouse` bin (bin/gatehouse.js), as an operator runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { captureLogLines } from './log-capture.ts';

export interface ChildServer {
  url: string;
  process: ChildProcess;
  logs: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ChildOptions {
  port?: number;
  /** Node's arguments in place of server/main.ts: a bundle and its flags. */
  argv?: string[];
}

export async function startChild(env: Record<string, string>, { port, argv = ['server/main.ts'] }: ChildOptions = {}): Promise<ChildServer> {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH, NODE_ENV: 'test', BCRYPT_COST: '4', HOST: '127.0.0.1', PORT: String(listenPort), PUBLIC_URL: `http://127.0.0.1:${listenPort}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      captureLogLines([line]);
      if (line.includes('"gatehouse listening"')) resolve();
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
  await ready;
  return {
    url: `http://127.0.0.1:${listenPort}`,
    process: child,
    logs,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run against a test database and KEYS_DIR, and nothing else. */
export function cliEnv(databaseUrl: string, keysDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, DATABASE_URL: databaseUrl, KEYS_DIR: keysDir, BCRYPT_COST: '4', ...extra };
}

/** Runs `gatehouse <args>`; `input` is its standard input (a password), otherwise it reads nothing. */
export function runCli(args: string[], { env, input, bin = 'bin/gatehouse.js' }: { env: NodeJS.ProcessEnv; input?: string; bin?: string }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) {
      // A command that fails before it reads (an unknown email) closes its end first.
      child.stdin!.on('error', () => {});
      child.stdin!.end(input);
    }
  });
}
