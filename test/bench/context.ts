// What every scenario is handed: the options, the running service, the sessions signed in for the
// token scenarios, and a shared reference server.
import type { Child } from './processes.ts';
import type { BenchDatabase } from './database.ts';
import type { Options } from './options.ts';
import { median, round } from './report.ts';
import type { SeededUser } from './seed.ts';
import type { Service, TokenSet } from './service.ts';

export interface BenchContext {
  options: Options;
  database: BenchDatabase;
  service: Service;
  /** A temporary directory for files handed to references. */
  work: string;
  /** Token users signed in through auth.login once each, in order. */
  sessions: TokenSet[];
  seededUsers: SeededUser[];
  /** The minimal Koa + tRPC + jose reference, started on first use and stopped at the end. */
  jwtReference(): Promise<Child>;
  /** Peak RSS of the service seen during load, in MB. */
  notePeakRss(mb: number | null): void;
  log(message: string): void;
}

export type Measured = {
  throughput: number;
  p50Ms: number | null;
  p99Ms: number | null;
  [extra: string]: unknown;
};

/**
 * Runs each measurement `rounds` times, reversing the order every other round so that neither side
 * always runs on a warmer (or busier) machine, and returns the median of each figure.
 */
export async function measureRounds<K extends string>(rounds: number, measurements: Record<K, () => Promise<Measured>>): Promise<Record<K, Measured>> {
  const keys = Object.keys(measurements) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as Measured[]])) as Record<K, Measured[]>;
  for (let r = 0; r < rounds; r += 1) {
    for (const key of r % 2 === 0 ? keys : [...keys].reverse()) samples[key].push(await measurements[key]());
  }
  const med = (list: Measured[], field: 'throughput' | 'p50Ms' | 'p99Ms') => {
    const values = list.map((m) => m[field]).filter((v): v is number => typeof v === 'number');
    return values.length > 0 ? round(median(values), 2) : null;
  };
  return Object.fromEntries(
    keys.map((k) => [k, { ...samples[k].at(-1), throughput: med(samples[k], 'throughput') ?? 0, p50Ms: med(samples[k], 'p50Ms'), p99Ms: med(samples[k], 'p99Ms'), ...(rounds > 1 ? { rounds: samples[k].map((m) => m.throughput) } : {}) }]),
  ) as Record<K, Measured>;
}

/** Each side's throughput in every round, when there was more than one. */
export function roundsOf(measured: Record<string, Measured>): { rounds?: Record<string, unknown> } {
  const entries = Object.entries(measured).filter(([, m]) => Array.isArray(m.rounds));
  return entries.length > 0 ? { rounds: Object.fromEntries(entries.map(([k, m]) => [k, m.rounds])) } : {};
}
