// Credentials never travel in a URL: URLs end up in proxy logs, browser history and Referer
// headers. A request that puts one in its query string is refused before anything reads it.
import type { Context } from 'koa';

const CREDENTIAL_PARAMS = ['access_token', 'refresh_token', 'id_token', 'client_secret', 'token', 'password'];

/** Whether the request may go on; when not, the 400 is set. */
export function admitQuery(ctx: Context): boolean {
  if (!ctx.querystring) return true;
  const params = new URLSearchParams(ctx.querystring);
  if (!CREDENTIAL_PARAMS.some((name) => params.has(name))) return true;
  ctx.status = 400;
  ctx.body = { error: { code: 'BAD_REQUEST', message: 'Credentials are not accepted in the query string; use the Authorization header or the body' } };
  return false;
}
