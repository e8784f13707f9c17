// Child processes of the harness: the service under test (dist/main.js, as `npm start` runs it)
// and the reference servers. Each runs on the same pinned Node as the harness and listens on
// 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Child {
  name: string;
  url: string;
  pid: number;
  /** Milliseconds from spawn until the ready URL first answered 2xx. */
  startupMs: number;
  /** Resident set size now, in MB (Linux /proc); null elsewhere. */
  rssMb(): Promise<number | null>;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnSpec {
  name: string;
  /** Script path relative to the repository root. */
  script: string;
  args?: string[];
  env: Record<string, string>;
  port: number;
  /** Polled until it answers 2xx. */
  readyPath: string;
  nodeFlags?: string[];
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
// A harness that dies must not leave servers behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startChild(spec: SpawnSpec): Promise<Child> {
  const url = `http://127.0.0.1:${spec.port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [...(spec.nodeFlags ?? []), spec.script, ...(spec.args ?? [])], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? 128 : 1);
      live.delete(child);
      resolve();
    }),
  );

  const deadline = Date.now() + (spec.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) throw new Error(`${spec.name} exited with ${exited} before it was ready:\n${tail}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} was not ready within ${spec.timeoutMs ?? 60_000} ms:\n${tail}`);
    }
    const ok = await fetch(url + spec.readyPath, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const startupMs = performance.now() - started;

  return {
    name: spec.name,
    url,
    pid: child.pid!,
    startupMs,
    async rssMb() {
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        return kb ? Number(kb) / 1024 : null;
      } catch {
        return null;
      }
    },
    output: () => tail,
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Samples a child's RSS every `everyMs` while `work` runs; resolves to the work's result and the peak. */
export async function withPeakRss<T>(child: Child, work: () => Promise<T>, everyMs = 250): Promise<{ result: T; peakMb: number | null }> {
  let peak: number | null = null;
  const sample = async () => {
    const rss = await child.rssMb();
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
  };
  const timer = setInterval(() => void sample(), everyMs);
  try {
    const result = await work();
    await sample();
    return { result, peakMb: peak };
  } finally {
    clearInterval(timer);
  }
}
