// Who is asking, as the audit trail and the rate limits record it: the client address (from
// X-Forwarded-For when TRUST_PROXY is set) and its User-Agent, null when absent.
import type { Context } from 'koa';
import type { RequestMeta } from '../services/audit.ts';

export function requestMeta(ctx: Context): RequestMeta {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
}
