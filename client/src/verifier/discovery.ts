import { VerifierUnavailableError } from './errors.js';

const TIMEOUT_MS = 5000;

/**
 * Reads the issuer's discovery document: its `issuer` must be exactly the configured one (OpenID
 * Connect Discovery 1.0, section 4.3), and its `jwks_uri` on the issuer's origin.
 */
export async function discover(issuer: string): Promise<{ jwksUri: URL }> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = await response.json();
  } catch (error) {
    throw new VerifierUnavailableError(`discovery at ${url} failed: ${(error as Error).message}`, { cause: error });
  }
  const { issuer: announced, jwks_uri: jwksUri } = (document ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  if (announced !== issuer) throw new VerifierUnavailableError(`discovery at ${url} names issuer ${JSON.stringify(announced)}, not ${issuer}`);
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw new VerifierUnavailableError(`discovery at ${url} has no valid jwks_uri`);
  // Otherwise whoever can change the document (e.g. a poisoned cache) would choose the keys we trust.
  if (new URL(jwksUri).origin !== new URL(issuer).origin) throw new VerifierUnavailableError(`discovery at ${url} names a jwks_uri on another origin: ${jwksUri}`);
  return { jwksUri: new URL(jwksUri) };
}
