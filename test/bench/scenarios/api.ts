// me.get and auth.verify with valid tokens, against the minimal Koa + tRPC + jose endpoint that does
// one primary-key SELECT through the same driver (references/trpc-jose.ts). Requests rotate over the
// signed-in sessions, each from its own client address.
import type { Request } from 'autocannon';
import type { BenchContext } from '../context.ts';
import { cpuFigures, loadInterleaved, type LoadResult, type LoadSpec } from '../load.ts';
import { withPeakRss, type Child } from '../processes.ts';
import { ratioOf, type ScenarioResult } from '../report.ts';
import { clientIp, trpcMutation } from '../service.ts';

const REFERENCE_NAME = 'Koa + tRPC + jose verify + 1 PK SELECT';

/** What varies per request: GET with a bearer token, or POST with a JSON body. */
type Shape = { path: string; bearer: true } | { path: string; body: string };

function rotating(ctx: BenchContext, shape: (i: number) => Shape) {
  let next = 0;
  const n = ctx.sessions.length;
  return (request: Request): Request => {
    const i = next % n;
    // A new client address for every request (of 131,072): a per-IP limit never sees a hot address.
    const headers: Record<string, string> = { 'x-forwarded-for': clientIp(next++ % 131_072) };
    const s = shape(i);
    if ('body' in s) return { ...request, method: 'POST', path: s.path, headers: { ...headers, 'content-type': 'application/json' }, body: s.body };
    return { ...request, method: 'GET', path: s.path, headers: { ...headers, authorization: `Bearer ${ctx.sessions[i]!.accessToken}` } };
  };
}

function spec(ctx: BenchContext, target: Child, shape: (i: number) => Shape): LoadSpec {
  return { url: target.url, duration: ctx.options.duration, connections: ctx.options.connections, serverPid: target.pid, setupRequest: rotating(ctx, shape) };
}

const bearerGet = (path: string) => (): Shape => ({ path, bearer: true });

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
    service: spec(ctx, ctx.service, bearerGet('/trpc/me.get')),
    reference: spec(ctx, reference, bearerGet('/trpc/me.get')),
  });
  // The ceiling on its own: taking turns three ways left the service idle twice as long as the
  // reference between its slices, and it came back slower from that (0.65 against 0.78 in a
  // two-way run of the same code).
  const jwtOnly = (await loadInterleaved({ jwtOnly: spec(ctx, reference, bearerGet('/trpc/jwt.get')) }, ctx.options.duration, ctx.options.duration)).jwtOnly;
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
    ...cpuFigures(m.service, m.reference),
  };
}

export async function authVerify(ctx: BenchContext): Promise<ScenarioResult> {
  const reference = await ctx.jwtReference();
  // A mutation: the token travels in the body, never in a URL.
  const bodies = ctx.sessions.map((s) => JSON.stringify({ token: s.accessToken }));
  // The load generator counts statuses only, and an inactive answer is a 200 too.
  const probe = await trpcMutation<{ active: boolean }>(ctx.service.url, 'auth.verify', { token: ctx.sessions[0]!.accessToken });
  if (!probe.active) throw new Error('auth.verify calls the bench tokens inactive: the scenario would time the refusal path');
  const m = await measure(ctx, {
    service: spec(ctx, ctx.service, (i) => ({ path: '/trpc/auth.verify', body: bodies[i]! })),
    reference: spec(ctx, reference, bearerGet('/trpc/me.get')),
  });
  return {
    ...againstReference(ctx, 'auth.verify', m),
    ...extras(m.service),
  };
}
