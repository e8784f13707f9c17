// createTokenVerifier (client/) against raw jose jwtVerify with a local key, in the harness process,
// one verify at a time, the two sides taking turns in short slices. Both verify the same service-issued tokens with the same checks; the
// verifier has done its discovery and fetched the JWKS before the clock starts.
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import '../client-source.ts';
import type { BenchContext, Measured } from '../context.ts';
import { percentile, ratioOf, round, type ScenarioResult } from '../report.ts';

const SLICE_MS = 100;

/**
 * Verifies one token at a time with each side in turn, in slices of 100 ms, until each side has had
 * `seconds`: load from elsewhere on the machine then falls on both sides alike.
 */
async function interleaved(seconds: number, tokens: string[], sides: Record<'verifier' | 'reference', (token: string) => Promise<boolean>>): Promise<Record<'verifier' | 'reference', Measured>> {
  const names = ['verifier', 'reference'] as const;
  const state = Object.fromEntries(names.map((n) => [n, { latencies: [] as number[], failures: 0, elapsed: 0 }])) as Record<(typeof names)[number], { latencies: number[]; failures: number; elapsed: number }>;
  // Warm-up: both sides run optimized code before the clock starts.
  for (const name of names) {
    const until = performance.now() + Math.min(1000, seconds * 200);
    for (let i = 0; performance.now() < until; i += 1) await sides[name](tokens[i % tokens.length]!);
  }
  let i = 0;
  while (names.some((n) => state[n].elapsed < seconds * 1000)) {
    for (const name of names) {
      const side = state[name];
      const sliceEnd = performance.now() + Math.min(SLICE_MS, seconds * 1000 - side.elapsed);
      const sliceStart = performance.now();
      while (performance.now() < sliceEnd) {
        const t0 = performance.now();
        if (!(await sides[name](tokens[i++ % tokens.length]!))) side.failures += 1;
        side.latencies.push(performance.now() - t0);
      }
      side.elapsed += performance.now() - sliceStart;
    }
  }
  const result = (name: (typeof names)[number]): Measured => {
    const { latencies, failures, elapsed } = state[name];
    latencies.sort((a, b) => a - b);
    return { throughput: round((latencies.length - failures) / (elapsed / 1000), 1), p50Ms: round(percentile(latencies, 50), 4), p99Ms: round(percentile(latencies, 99), 4), failures };
  };
  return { verifier: result('verifier'), reference: result('reference') };
}

export async function clientVerify(ctx: BenchContext): Promise<ScenarioResult> {
  const { service, options } = ctx;
  const { createTokenVerifier } = await import('../../../client/src/verifier/index.ts');
  const tokens = ctx.sessions.map((s) => s.accessToken);
  const verifier = createTokenVerifier({ issuer: service.issuer, audience: service.audience });
  const first = await verifier.verify(tokens[0]!);
  if (!first.ok) throw new Error(`client.verify: the verifier refused a fresh token: ${first.reason}`);

  // jose with the key itself: no key set, no discovery. The same key the service signs with.
  const { keys } = JSON.parse(await readFile(join(service.keysDir, 'jwks.json'), 'utf8')) as { keys: { alg: string; kid: string }[] };
  const { kid } = JSON.parse(Buffer.from(tokens[0]!.split('.')[0]!, 'base64url').toString()) as { kid: string };
  const jwk = keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error('client.verify: the signing key is not in KEYS_DIR');
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  const joseOptions = {
    algorithms: ['ES256', 'RS256'],
    typ: 'at+jwt',
    issuer: service.issuer,
    audience: service.audience,
    clockTolerance: 5,
    requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
  };

  const m = await interleaved(options.duration * options.rounds, tokens, {
    verifier: async (t) => (await verifier.verify(t)).ok,
    reference: (t) =>
      jwtVerify(t, key, joseOptions).then(
        () => true,
        () => false,
      ),
  });
  return {
    name: 'client.verify',
    throughput: m.verifier.throughput,
    p50Ms: m.verifier.p50Ms,
    p99Ms: m.verifier.p99Ms,
    reference: { name: 'jose jwtVerify, local key', throughput: m.reference.throughput },
    ratio: ratioOf(m.verifier.throughput, m.reference.throughput),
    target: 0.95,
    unit: 'verifies/s, one at a time, in the harness process',
    interleaved: `${SLICE_MS} ms slices, ${options.duration * options.rounds} s a side`,
    failures: m.verifier.failures,
  };
}
