// Credentials never travel in a URL: URLs end up in proxy logs, browser history and Referer
// headers. A request that puts one in its query string is refused before anything reads it.
import type { Middleware } from 'koa';

const CREDENTIAL_PARAMS = ['access_token', 'refresh_token', 'id_token', 'client_secret', 'token', 'password'];

export function refuseQueryCredentials(): Middleware {
  return async (ctx, next) => {
    if (ctx.querystring) {
      const params = new URLSearchParams(ctx.querystring);
      if (CREDENTIAL_PARAMS.some((name) => params.has(name))) {
        ctx.status = 400;
        ctx.body = { error: { code: 'BAD_REQUEST', message: 'Credentials are not accepted in the query string; use the Authorization header or the body' } };
        return;
      }
    }
    await next();
  };
}
