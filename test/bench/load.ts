// Load generation with autocannon, in the harness process: every run is bounded in time and may only
// be aimed at the loopback address.
import type { EventEmitter } from 'node:events';
import autocannon, { type Request, type Result } from 'autocannon';
import { cpuTicks, waitQuiet } from './quiet.ts';
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
  /**
   * CPU time of the server process per answered request, in microseconds (Linux only, else null):
   * what a request costs, whatever share of the cores the server got while others ran.
   */
  cpuUsPerRequest: number | null;
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
  return (await loadInterleaved({ only: spec }, spec.duration, spec.duration)).only;
}

interface Tally {
  latencies: number[];
  statuses: Record<string, number>;
  ok: number;
  other: number;
  errors: number;
  seconds: number;
  /** CPU ticks of the server over the measured slices and the settling after each; null if unknown. */
  ticks: number | null;
}

/**
 * Measures several targets for `duration` seconds each, taking turns in slices of `slice` seconds
 * (the order reversed every other turn), after one warm-up each. On a machine that others share,
 * load from elsewhere then falls on every side alike, which back-to-back runs cannot promise.
 * Requests in flight when a slice ends are abandoned, as at the end of any run, and the target is
 * left to finish them before the next slice starts.
 */
export async function loadInterleaved<K extends string>(specs: Record<K, LoadSpec>, duration: number, slice = 2): Promise<Record<K, LoadResult>> {
  const keys = Object.keys(specs) as K[];
  const settle = (spec: LoadSpec) => (spec.serverPid ? waitQuiet(spec.serverPid) : Promise.resolve());
  for (const key of keys) {
    const spec = specs[key];
    const warmup = spec.warmup ?? Math.min(2, duration / 5);
    await settle(spec);
    if (warmup > 0) await runOnce(spec, warmup, null, {});
  }
  // From here on, each slice leaves its server quiet behind it (below).
  for (const key of keys) await settle(specs[key]);
  const tallies = Object.fromEntries(keys.map((k) => [k, { latencies: [], statuses: {}, ok: 0, other: 0, errors: 0, seconds: 0, ticks: 0 } as Tally])) as Record<K, Tally>;
  for (let turn = 0; keys.some((k) => tallies[k].seconds < duration - 1e-6); turn += 1) {
    for (const key of turn % 2 === 0 ? keys : [...keys].reverse()) {
      const tally = tallies[key];
      const seconds = Math.min(slice, duration - tally.seconds);
      if (seconds <= 1e-6) continue;
      const { serverPid } = specs[key];
      const ticksBefore = serverPid ? await cpuTicks(serverPid) : null;
      const result = await runOnce(specs[key], seconds, tally.latencies, tally.statuses);
      // The work left in flight is the run's too: counted once the server is quiet again.
      await settle(specs[key]);
      const ticksAfter = serverPid ? await cpuTicks(serverPid) : null;
      tally.ticks = tally.ticks !== null && ticksBefore !== null && ticksAfter !== null ? tally.ticks + ticksAfter - ticksBefore : null;
      tally.ok += result['2xx'];
      tally.other += result.non2xx;
      tally.errors += result.errors;
      tally.seconds += result.duration;
    }
  }
  return Object.fromEntries(
    keys.map((key) => {
      const t = tallies[key];
      t.latencies.sort((a, b) => a - b);
      const result: LoadResult = {
        throughput: round(t.ok / t.seconds, 1),
        p50Ms: round(percentile(t.latencies, 50), 2),
        p95Ms: round(percentile(t.latencies, 95), 2),
        p99Ms: round(percentile(t.latencies, 99), 2),
        requests: t.ok + t.other,
        failures: t.other + t.errors,
        failureStatuses: { ...t.statuses, ...(t.errors > 0 ? { errors: t.errors } : {}) },
        cpuUsPerRequest: t.ticks !== null && t.ok + t.other > 0 ? round((t.ticks * 10_000) / (t.ok + t.other), 0) : null,
      };
      return [key, result];
    }),
  ) as Record<K, LoadResult>;
}

/**
 * CPU per request of a target and of its reference, and their ratio (reference over target: 1 is
 * as cheap as the reference, like the throughput ratio). Throughput depends on the share of the
 * cores each server got beside the load generator and the database; this does not.
 */
export function cpuFigures(target: LoadResult, reference: LoadResult) {
  const [mine, theirs] = [target.cpuUsPerRequest, reference.cpuUsPerRequest];
  return { cpuUsPerRequest: mine, referenceCpuUsPerRequest: theirs, cpuRatio: mine && theirs ? round(theirs / mine, 3) : null };
}
