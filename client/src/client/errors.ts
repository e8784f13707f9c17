import { TRPCClientError } from '@trpc/client';

function codeOf(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  const code = typeof data === 'object' && data !== null && 'code' in data ? data.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The server refused the call's credentials (401). */
export function isUnauthorized(error: unknown): boolean {
  return codeOf(error) === 'UNAUTHORIZED';
}

/**
 * The server refused a refresh token: it is unknown, rotated, revoked or malformed, and will never
 * work again. Network failures, 5xx and 429 are not refusals: the session may still be alive.
 */
export function isRefreshRefused(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'UNAUTHORIZED' || code === 'BAD_REQUEST';
}
