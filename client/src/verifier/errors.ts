/** The issuer's discovery document or keys could not be fetched or made no sense: no verdict on the token. */
export class VerifierUnavailableError extends Error {
  override readonly name = 'VerifierUnavailableError';
}
