// The rate limit of the provider's token endpoint: failed token requests per IP (a success is not
// counted), so a client guessing secrets, codes or refresh tokens is slowed down and a busy
// client-credentials client is not.
import type { Context } from 'koa';
import type { Limiter } from '../services/rate-limits/limiter.ts';
import { requestMeta } from '../request/meta.ts';

/**
 * Runs one token request under the limit; a status of 400 or more counts as a failure. Limits
 * whatever it is given: the /oidc router (provider.ts) hands it POST /oidc/token only.
 */
export function tokenEndpointLimit(limiter: Limiter): (ctx: Context, handle: () => Promise<unknown>) => Promise<unknown> {
  return (ctx, handle) =>
    limiter.run(
      '',
      requestMeta(ctx),
      async () => {
        await handle();
        return ctx.status;
      },
      (status) => status < 400,
    );
}
