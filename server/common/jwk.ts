// Signing key pairs as JWKs: the two algorithms the provider signs with, and the public half of each.
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface PrivateJwk extends JWK {
  kid: string;
  alg: SigningAlg;
  use: 'sig';
}

export async function generateSigningKey(alg: SigningAlg): Promise<PrivateJwk> {
  const { privateKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  // The RFC 7638 thumbprint: the same key always gets the same kid.
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: 'sig' };
}

export function toPublicJwk({ d, p, q, dp, dq, qi, ...pub }: JWK): JWK {
  return pub;
}
