// me.get and auth.verify with valid tokens, against the minimal Koa + tRPC + jose endpoint that does
// one primary-key SELECT through the same driver (references/trpc-jose.ts). Requests rotate over the
// signed-in sessions, each from its own client address.
import type { Request } from 'autocannon';
import type { BenchContext } from '../context.ts';
import { loadInterleaved, type LoadResult, type LoadSpec } from '../load.ts';
import { withPeakRss, type Child } from '../processes.ts';
import { ratioOf, type ScenarioResult } from '../report.ts';
import { clientIp } from '../service.ts';

const REFERENCE_NAME = 'Koa + tRPC + jose verify + 1 PK SELECT';

function rotating(ctx: BenchContext, path: (i: number) => string, bearer: boolean) {
  let next = 0;
  const n = ctx.sessions.length;
  return (request: Request): Request => {
    const i = next % n;
    // A new client address for every request (of 131,072): a per-IP limit never sees a hot address.
    const headers: Record<string, string> = { 'x-forwarded-for': clientIp(next++ % 131_072) };
    if (bearer) headers.authorization = `Bearer ${ctx.sessions[i]!.accessToken}`;
    return { ...request, method: 'GET', path: path(i), headers };
  };
}

function spec(ctx: BenchContext, target: Child, path: (i: number) => string, bearer: boolean): LoadSpec {
  return { url: target.url, duration: ctx.options.duration, connections: ctx.options.connections, serverPid: target.pid, setupRequest: rotating(ctx, path, bearer) };
}

/** The targets take turns (loadInterleaved) for duration × rounds seconds each; the service's RSS is watched. */
async function measure<K extends string>(ctx: BenchContext, specs: Record<K, LoadSpec>): Promise<Record<K, LoadResult>> {
  const { result, peakMb } = await withPeakRss(ctx.service, () => loadInterleaved(specs, ctx.options.duration * ctx.options.rounds));
  ctx.notePeakRss(peakMb);
  return result;
}

const extras = (m: LoadResult) => ({ failures: m.failures, ...(m.failures ? { failureStatuses: m.failureStatuses } : {}) });

export async function meGet(ctx: BenchContext): Promise<ScenarioResult> {
  const reference = await ctx.jwtReference();
  const m = await measure(ctx, {
    service: spec(ctx, ctx.service, () => '/trpc/me.get', true),
    reference: spec(ctx, reference, () => '/trpc/me.get', true),
  });
  // The ceiling on its own: taking turns three ways left the service idle twice as long as the
  // reference between its slices, and it came back slower from that (0.65 against 0.78 in a
  // two-way run of the same code).
  const jwtOnly = (await loadInterleaved({ jwtOnly: spec(ctx, reference, () => '/trpc/jwt.get', true) }, ctx.options.duration, ctx.options.duration)).jwtOnly;
  return {
    ...againstReference(ctx, 'me.get', m),
    referenceP50Ms: m.reference.p50Ms,
    referenceP99Ms: m.reference.p99Ms,
    jwtOnlyThroughput: jwtOnly.throughput,
    jwtOnlyRatio: ratioOf(m.service.throughput, jwtOnly.throughput),
    ...extras(m.service),
  };
}

/** The figures both scenarios report: the service beside the jose + SELECT reference. */
function againstReference(ctx: BenchContext, name: 'me.get' | 'auth.verify', m: Record<'service' | 'reference', LoadResult>) {
  return {
    name,
    throughput: m.service.throughput,
    p50Ms: m.service.p50Ms,
    p99Ms: m.service.p99Ms,
    reference: { name: REFERENCE_NAME, throughput: m.reference.throughput },
    ratio: ratioOf(m.service.throughput, m.reference.throughput),
    target: 0.8,
    connections: ctx.options.connections,
    turns: `2 s slices, ${ctx.options.duration * ctx.options.rounds} s a side`,
  };
}

export async function authVerify(ctx: BenchContext): Promise<ScenarioResult> {
  const reference = await ctx.jwtReference();
  const inputs = ctx.sessions.map((s) => `/trpc/auth.verify?input=${encodeURIComponent(JSON.stringify({ token: s.accessToken }))}`);
  const m = await measure(ctx, {
    service: spec(ctx, ctx.service, (i) => inputs[i]!, false),
    reference: spec(ctx, reference, () => '/trpc/me.get', true),
  });
  return {
    ...againstReference(ctx, 'auth.verify', m),
    ...extras(m.service),
  };
}
