// The real entry point (server/main.ts, or a bundle of it) as a child process: for shutdown,
// multi-instance and bundle tests.
// Its log lines go to the run-wide capture (log-capture.ts), like in-process servers' do.
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
