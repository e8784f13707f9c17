// The service as a process: resident memory when idle and at its peak under the load of this run,
// and the time from spawn until /readyz answers 200 on a fresh database and keys directory (keys
// generated, migrations applied), on PGlite and, when the run has a server, on PostgreSQL. Targets:
// ready within 1 s on PostgreSQL, under 200 MB idle and 300 MB under load; PGlite has none.
import { type BenchContext } from '../context.ts';
import { createBenchDatabase } from '../database.ts';
import { load } from '../load.ts';
import { withPeakRss } from '../processes.ts';
import { median, round, type ScenarioResult } from '../report.ts';
import { clientIp, startService } from '../service.ts';

const STARTS = 3;
const TARGETS = { startupPostgresMs: 1000, rssIdleMb: 200, rssLoadMb: 300 } as const;

async function coldStarts(ctx: BenchContext, server: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i += 1) {
    const database = await createBenchDatabase(server, 'start');
    try {
      const service = await startService({ databaseUrl: database.url, bcryptCost: ctx.options.bcryptCost });
      times.push(service.startupMs);
      await service.stop();
    } finally {
      await database.drop();
    }
  }
  return times;
}

export async function processFigures(ctx: BenchContext, rss: { idleMb: number | null; peakMb: number | null }): Promise<ScenarioResult> {
  const { service, options } = ctx;
  let peak = rss.peakMb;
  if (peak === null) {
    // Nothing loaded the service yet in this run: load me.get for the duration.
    let next = 0;
    const { peakMb } = await withPeakRss(service, () =>
      load({
        url: service.url,
        duration: options.duration,
        connections: options.connections,
        serverPid: service.pid,
        setupRequest: (request) => {
          const i = next++ % ctx.sessions.length;
          return { ...request, path: '/trpc/me.get', headers: { authorization: `Bearer ${ctx.sessions[i]!.accessToken}`, 'x-forwarded-for': clientIp(i) } };
        },
      }),
    );
    peak = peakMb;
  }
  const pglite = await coldStarts(ctx, 'pglite');
  const postgres = options.db === 'pglite' ? null : await coldStarts(ctx, options.db);
  const startupMs = round(median(ctx.database.driver === 'pglite' ? pglite : postgres!), 0);
  const figures = {
    rssIdleMb: rss.idleMb === null ? null : round(rss.idleMb, 1),
    rssLoadMb: peak === null ? null : round(peak, 1),
    startupPostgresMs: postgres ? round(median(postgres), 0) : null,
  };
  // Each figure under its target; null when one of them was not measured.
  const met = Object.values(figures).includes(null) ? null : (Object.keys(TARGETS) as (keyof typeof TARGETS)[]).every((k) => figures[k]! < TARGETS[k]);
  return {
    name: 'process',
    throughput: null,
    p50Ms: null,
    p99Ms: null,
    reference: null,
    ratio: null,
    target: null,
    rssIdleMb: figures.rssIdleMb,
    rssLoadMb: figures.rssLoadMb,
    startupMs,
    startupPgliteMs: round(median(pglite), 0),
    startupPostgresMs: figures.startupPostgresMs,
    targets: TARGETS,
    targetsMet: met,
    note: `start-up: spawn until /readyz is 200, fresh database and keys, median of ${STARTS}${postgres ? '' : '; PostgreSQL start-up needs --db postgres://…'}`,
  };
}
