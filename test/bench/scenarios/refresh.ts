// auth.refresh, each request on its own session: a session is taken from a pool when a request is
// built and put back, with its new refresh token, when the response arrives, so no two requests
// in flight ever share a session and none presents a rotated token. Sessions whose request was in
// flight when a run ended are dropped (their token may have rotated unseen); the pool is sized for
// that. No reference: throughput and p99 are the figures.
import { measureRounds, roundsOf, type BenchContext } from '../context.ts';
import { load } from '../load.ts';
import { withPeakRss } from '../processes.ts';
import type { ScenarioResult } from '../report.ts';
import { clientIp } from '../service.ts';

interface PooledSession {
  index: number;
  refreshToken: string;
}

export async function refresh(ctx: BenchContext): Promise<ScenarioResult> {
  const { service, options } = ctx;
  const pool: PooledSession[] = ctx.sessions.map((s, index) => ({ index, refreshToken: s.refreshToken }));
  let exhausted = 0;
  const m = await measureRounds(options.rounds, {
    service: async () => {
      const { result, peakMb } = await withPeakRss(service, () =>
        load({
          url: service.url,
          duration: options.duration,
          connections: options.connections,
          serverPid: service.pid,
          setupRequest: (request, context) => {
            const session = pool.shift();
            context.session = session;
            // An empty pool would be the harness's fault; the request then fails and is counted.
            if (!session) exhausted += 1;
            return {
              ...request,
              method: 'POST',
              path: '/trpc/auth.refresh',
              headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp(session?.index ?? 0) },
              body: JSON.stringify({ refreshToken: session?.refreshToken ?? 'pool-exhausted' }),
            };
          },
          onResponse: (status, body, context) => {
            const session = context.session as PooledSession | undefined;
            if (!session || status !== 200) return;
            session.refreshToken = (JSON.parse(body) as { result: { data: { refreshToken: string } } }).result.data.refreshToken;
            pool.push(session);
          },
        }),
      );
      ctx.notePeakRss(peakMb);
      return result;
    },
  });
  const s = m.service;
  return {
    name: 'refresh',
    throughput: s.throughput,
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    reference: null,
    ratio: null,
    target: null,
    connections: options.connections,
    sessions: ctx.sessions.length,
    ...roundsOf(m),
    failures: s.failures,
    ...(s.failures ? { failureStatuses: s.failureStatuses } : {}),
    ...(exhausted ? { poolExhausted: exhausted } : {}),
  };
}
