// Load generation with autocannon, in the harness process: every run is bounded in time and may only
// be aimed at the loopback address.
import type { EventEmitter } from 'node:events';
import autocannon, { type Request, type Result } from 'autocannon';
import { waitQuiet } from './quiet.ts';
import { percentile, round } from './report.ts';

export interface LoadSpec {
  url: string;
  /** Seconds of measured load. */
  duration: number;
  connections: number;
  method?: 'GET' | 'POST';
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Builds each request; see autocannon's requests[].setupRequest. */
  setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  /** Seconds of unmeasured load before the measured run; default a fifth of the duration, at most 2. */
  warmup?: number;
  /** The server's process: after each run, wait until it has finished the work left in flight. */
  serverPid?: number;
}

export type LoadResult = {
  /** Successful (2xx) responses per second. */
  throughput: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  requests: number;
  /** Responses that were not 2xx, and connection errors or timeouts. */
  failures: number;
  /** Status code of the first few failures, to explain a bad run. */
  failureStatuses: Record<string, number>;
};

export function assertLoopback(url: string): void {
  const { hostname } = new URL(url);
  if (hostname !== '127.0.0.1') throw new Error(`refusing to load ${url}: the harness only targets 127.0.0.1`);
}

async function runOnce(spec: LoadSpec, duration: number, latencies: number[] | null, statuses: Record<string, number>): Promise<Result> {
  assertLoopback(spec.url);
  const request: Request = {
    method: spec.method ?? 'GET',
    path: spec.path ?? '/',
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(spec.setupRequest ? { setupRequest: spec.setupRequest as Request['setupRequest'] } : {}),
    ...(spec.onResponse ? { onResponse: spec.onResponse as Request['onResponse'] } : {}),
  };
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration,
    // A request that takes this long is a failure, not a data point worth waiting for.
    timeout: 30,
    requests: [request],
  }) as unknown as EventEmitter & PromiseLike<Result>;
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies?.push(responseTime);
    else statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  return instance;
}

/** Warms up, then measures: throughput of 2xx responses and their latency percentiles. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const warmup = spec.warmup ?? Math.min(2, spec.duration / 5);
  const settle = () => (spec.serverPid ? waitQuiet(spec.serverPid) : Promise.resolve());
  await settle();
  if (warmup > 0) {
    await runOnce(spec, warmup, null, {});
    await settle();
  }
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const result = await runOnce(spec, spec.duration, latencies, statuses);
  await settle();
  latencies.sort((a, b) => a - b);
  const ok = result['2xx'];
  return {
    throughput: round(ok / result.duration, 1),
    p50Ms: round(percentile(latencies, 50), 2),
    p95Ms: round(percentile(latencies, 95), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    requests: ok + result.non2xx,
    failures: result.non2xx + result.errors,
    failureStatuses: { ...statuses, ...(result.errors > 0 ? { errors: result.errors } : {}) },
  };
}
