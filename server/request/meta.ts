// Who is asking: the client address (TRUST_PROXY hops from the right of X-Forwarded-For), canonical,
// and the User-Agent; null when absent.
import type { Context } from 'koa';
import { normalizeIp } from '../common/ip.ts';
import type { RequestMeta } from '../common/audit-events.ts';

export function requestMeta(ctx: Context): RequestMeta {
  const ip = ctx.ip;
  return { ip: ip ? normalizeIp(ip) : null, userAgent: ctx.get('user-agent') || null };
}
