// createTokenVerifier (client/) against raw jose jwtVerify with a local key, in the harness process,
// one verify at a time. Both verify the same service-issued tokens with the same checks; the
// verifier has done its discovery and fetched the JWKS before the clock starts.
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import '../client-source.ts';
import { measureRounds, roundsOf, type BenchContext, type Measured } from '../context.ts';
import { percentile, ratioOf, round, type ScenarioResult } from '../report.ts';

async function opsPerSecond(seconds: number, tokens: string[], verify: (token: string) => Promise<boolean>): Promise<Measured> {
  // A short warm-up so both sides are measured with optimized code.
  const warmUntil = performance.now() + Math.min(1000, seconds * 200);
  for (let i = 0; performance.now() < warmUntil; i += 1) await verify(tokens[i % tokens.length]!);
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  for (let i = 0; ; i += 1) {
    const t0 = performance.now();
    if (t0 >= deadline) break;
    if (!(await verify(tokens[i % tokens.length]!))) failures += 1;
    latencies.push(performance.now() - t0);
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { throughput: round((latencies.length - failures) / elapsed, 1), p50Ms: round(percentile(latencies, 50), 4), p99Ms: round(percentile(latencies, 99), 4), failures };
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

  const m = await measureRounds(options.rounds, {
    verifier: () => opsPerSecond(options.duration, tokens, async (t) => (await verifier.verify(t)).ok),
    reference: () =>
      opsPerSecond(options.duration, tokens, (t) =>
        jwtVerify(t, key, joseOptions).then(
          () => true,
          () => false,
        ),
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
    ...roundsOf(m),
    failures: m.verifier.failures,
  };
}
