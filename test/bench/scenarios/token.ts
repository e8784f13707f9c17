// /oidc/token with client credentials, against a bare oidc-provider (references/bare-oidc.ts) with
// the same client, the same token shape and the service's own signing key. Both clients are static
// (the service's comes from CLIENTS_FILE), so neither pays for a client lookup in a database.
import { join } from 'node:path';
import type { BenchContext } from '../context.ts';
import { cpuFigures, loadInterleaved, type LoadSpec } from '../load.ts';
import { freePort, startChild, withPeakRss, type Child } from '../processes.ts';
import { ratioOf, type ScenarioResult } from '../report.ts';
import { BENCH_CLIENT, clientIp } from '../service.ts';
import { profileFlags } from '../profile.ts';

export async function tokenClientCredentials(ctx: BenchContext): Promise<ScenarioResult> {
  const { service, options } = ctx;
  const port = await freePort();
  const bare = await startChild({
    name: 'bare oidc-provider',
    script: 'test/bench/references/bare-oidc.ts',
    port,
    readyPath: '/.well-known/openid-configuration',
    nodeFlags: profileFlags(options, 'bare-oidc'),
    env: { PORT: String(port), JWKS_FILE: join(service.keysDir, 'jwks.json'), AUDIENCE: service.audience, CLIENT_ID: BENCH_CLIENT.id, CLIENT_SECRET: BENCH_CLIENT.secret },
  });
  try {
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(BENCH_CLIENT.id)}:${encodeURIComponent(BENCH_CLIENT.secret)}`).toString('base64')}`;
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource: service.audience }).toString();
    const spec = (target: Child, path: string): LoadSpec => {
      let next = 0;
      return {
        url: target.url,
        duration: options.duration,
        connections: options.connections,
        serverPid: target.pid,
        setupRequest: (request) => ({
          ...request,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, 'x-forwarded-for': clientIp(next++ % 131_072) },
          body,
        }),
      };
    };
    const { result: m, peakMb } = await withPeakRss(service, () =>
      loadInterleaved({ service: spec(service, '/oidc/token'), reference: spec(bare, '/token') }, options.duration * options.rounds),
    );
    ctx.notePeakRss(peakMb);
    return {
      name: 'token.client_credentials',
      throughput: m.service.throughput,
      p50Ms: m.service.p50Ms,
      p99Ms: m.service.p99Ms,
      reference: { name: 'bare oidc-provider, in-memory adapter', throughput: m.reference.throughput },
      ratio: ratioOf(m.service.throughput, m.reference.throughput),
      // What the service adds on this path (hashed secrets, the resource check, the roles claims,
      // the edge, the fail-closed token limit) the bare provider has none of; test/bench/README.md.
      target: 0.7,
      connections: options.connections,
      turns: `2 s slices, ${options.duration * options.rounds} s a side`,
      referenceP50Ms: m.reference.p50Ms,
      referenceP99Ms: m.reference.p99Ms,
      ...cpuFigures(m.service, m.reference),
      failures: m.service.failures,
      ...(m.service.failures ? { failureStatuses: m.service.failureStatuses } : {}),
      ...(m.reference.failures ? { referenceFailures: m.reference.failureStatuses } : {}),
    };
  } finally {
    await bare.stop();
  }
}
