// me.get and auth.verify with valid tokens, against the minimal Koa + tRPC + jose endpoint that does
// one primary-key SELECT through the same driver (references/trpc-jose.ts). Requests rotate over the
// signed-in sessions, each from its own client address.
import type { Request } from 'autocannon';
import { measureRounds, roundsOf, type BenchContext, type Measured } from '../context.ts';
import { load } from '../load.ts';
import { withPeakRss, type Child } from '../processes.ts';
import { ratioOf, type ScenarioResult } from '../report.ts';
import { clientIp } from '../service.ts';

const REFERENCE_NAME = 'Koa + tRPC + jose verify + 1 PK SELECT';

function rotating(ctx: BenchContext, path: (i: number) => string, bearer: boolean) {
  let next = 0;
  const n = ctx.sessions.length;
  return (request: Request): Request => {
    const i = next++ % n;
    const headers: Record<string, string> = { 'x-forwarded-for': clientIp(i) };
    if (bearer) headers.authorization = `Bearer ${ctx.sessions[i]!.accessToken}`;
    return { ...request, method: 'GET', path: path(i), headers };
  };
}

async function measure(ctx: BenchContext, target: Child, path: (i: number) => string, bearer: boolean, trackRss: boolean): Promise<Measured> {
  const work = () =>
    load({ url: target.url, duration: ctx.options.duration, connections: ctx.options.connections, serverPid: target.pid, setupRequest: rotating(ctx, path, bearer) });
  if (!trackRss) return work();
  const { result, peakMb } = await withPeakRss(target, work);
  ctx.notePeakRss(peakMb);
  return result;
}

const extras = (m: Measured) => ({ failures: m.failures, ...(m.failures ? { failureStatuses: m.failureStatuses } : {}) });

export async function meGet(ctx: BenchContext): Promise<ScenarioResult> {
  const reference = await ctx.jwtReference();
  const m = await measureRounds(ctx.options.rounds, {
    service: () => measure(ctx, ctx.service, () => '/trpc/me.get', true, true),
    reference: () => measure(ctx, reference, () => '/trpc/me.get', true, false),
    jwtOnly: () => measure(ctx, reference, () => '/trpc/jwt.get', true, false),
  });
  return {
    name: 'me.get',
    throughput: m.service.throughput,
    p50Ms: m.service.p50Ms,
    p99Ms: m.service.p99Ms,
    reference: { name: REFERENCE_NAME, throughput: m.reference.throughput },
    ratio: ratioOf(m.service.throughput, m.reference.throughput),
    target: 0.8,
    connections: ctx.options.connections,
    referenceP50Ms: m.reference.p50Ms,
    referenceP99Ms: m.reference.p99Ms,
    jwtOnlyThroughput: m.jwtOnly.throughput,
    jwtOnlyRatio: ratioOf(m.service.throughput, m.jwtOnly.throughput),
    ...roundsOf(m),
    ...extras(m.service),
  };
}

export async function authVerify(ctx: BenchContext): Promise<ScenarioResult> {
  const reference = await ctx.jwtReference();
  const inputs = ctx.sessions.map((s) => `/trpc/auth.verify?input=${encodeURIComponent(JSON.stringify({ token: s.accessToken }))}`);
  const m = await measureRounds(ctx.options.rounds, {
    service: () => measure(ctx, ctx.service, (i) => inputs[i]!, false, true),
    reference: () => measure(ctx, reference, () => '/trpc/me.get', true, false),
  });
  return {
    name: 'auth.verify',
    throughput: m.service.throughput,
    p50Ms: m.service.p50Ms,
    p99Ms: m.service.p99Ms,
    reference: { name: REFERENCE_NAME, throughput: m.reference.throughput },
    ratio: ratioOf(m.service.throughput, m.reference.throughput),
    target: 0.8,
    connections: ctx.options.connections,
    ...roundsOf(m),
    ...extras(m.service),
  };
}
