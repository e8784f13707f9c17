import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../app-router.js';

function dataOf(error: unknown): object | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  return typeof data === 'object' && data !== null ? data : undefined;
}

function codeOf(error: unknown): string | undefined {
  const data = dataOf(error);
  const code = data && 'code' in data ? data.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The server refused the call's credentials (401). */
export function isUnauthorized(error: unknown): boolean {
  return codeOf(error) === 'UNAUTHORIZED';
}

/**
 * The server refused the `resource` of a refresh (400: not a URL, or no registered API resource)
 * and nothing else. It checks the resource first, so the refresh token is not spent and the
 * session lives on.
 */
export function isResourceRefused(error: unknown): boolean {
  if (codeOf(error) !== 'BAD_REQUEST') return false;
  const data = dataOf(error);
  const fieldErrors = data && 'fieldErrors' in data ? data.fieldErrors : undefined;
  if (typeof fieldErrors !== 'object' || fieldErrors === null) return false;
  const fields = Object.keys(fieldErrors);
  return fields.length === 1 && fields[0] === 'resource';
}

/**
 * The server refused a refresh token: it is unknown, rotated, revoked or malformed, and will never
 * work again. Network failures, 5xx and 429 are not refusals: the session may still be alive; nor
 * is a refused `resource` (isResourceRefused).
 */
export function isRefreshRefused(error: unknown): boolean {
  const code = codeOf(error);
  return (code === 'UNAUTHORIZED' || code === 'BAD_REQUEST') && !isResourceRefused(error);
}

/**
 * What tokenFor rejects with when there is no session: an UNAUTHORIZED, as the server gives a call
 * without a token, so that isUnauthorized() covers both. No request was sent.
 */
export function notSignedIn(message: string): TRPCClientError<AppRouter> {
  return TRPCClientError.from<AppRouter>({ error: { code: -32001, message, data: { code: 'UNAUTHORIZED', httpStatus: 401 } } });
}
