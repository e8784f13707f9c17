// auth.login with 50 connections at BCRYPT_COST, against raw bcrypt verify at the same cost and
// concurrency. Each request signs in a different seeded account from its own client address, so a
// per-account or per-IP limiter sees what it would in production, not one hot account.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { measureRounds, roundsOf, type BenchContext, type Measured } from '../context.ts';
import { load } from '../load.ts';
import { ROOT, withPeakRss } from '../processes.ts';
import { ratioOf, type ScenarioResult } from '../report.ts';
import { BENCH_PASSWORD, loginEmail } from '../seed.ts';
import { clientIp } from '../service.ts';

export const LOGIN_CONNECTIONS = 50;
export const LOGIN_USERS = 1000;

const run = promisify(execFile);

async function bcryptReference(cost: number, duration: number): Promise<Measured> {
  const { stdout } = await run(process.execPath, ['test/bench/references/bcrypt.ts', String(cost), String(LOGIN_CONNECTIONS), String(duration)], {
    cwd: ROOT,
    timeout: (duration + 60) * 1000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measured;
}

export async function login(ctx: BenchContext): Promise<ScenarioResult> {
  const { service, options } = ctx;
  let next = 0;
  const bodies = Array.from({ length: LOGIN_USERS }, (_, i) => JSON.stringify({ email: loginEmail(i + 1), password: BENCH_PASSWORD }));
  const measured = await measureRounds(options.rounds, {
    service: async () => {
      const { result, peakMb } = await withPeakRss(service, () =>
        load({
          url: service.url,
          duration: options.duration,
          connections: LOGIN_CONNECTIONS,
          serverPid: service.pid,
          setupRequest: (request) => {
            const i = next++ % LOGIN_USERS;
            return { ...request, method: 'POST', path: '/trpc/auth.login', headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp(i) }, body: bodies[i]! };
          },
        }),
      );
      ctx.notePeakRss(peakMb);
      return result;
    },
    reference: () => bcryptReference(options.bcryptCost, options.duration),
  });
  const { service: s, reference: r } = measured;
  return {
    name: 'login',
    throughput: s.throughput,
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    reference: { name: `bcrypt verify, cost ${options.bcryptCost}, ${LOGIN_CONNECTIONS} in flight`, throughput: r.throughput },
    ratio: ratioOf(s.throughput, r.throughput),
    target: 0.9,
    connections: LOGIN_CONNECTIONS,
    ...roundsOf(measured),
    failures: s.failures,
    ...(s.failures ? { failureStatuses: s.failureStatuses } : {}),
  };
}
