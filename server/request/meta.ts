// Who is asking, as the audit trail and the rate limits record it: the client address (from
// X-Forwarded-For, counted TRUST_PROXY hops from the right) in its canonical spelling, and its
// User-Agent; null when absent.
import type { Context } from 'koa';
import { normalizeIp } from '../shared/ip.ts';
import type { RequestMeta } from '../shared/audit-events.ts';

export function requestMeta(ctx: Context): RequestMeta {
  const ip = ctx.ip;
  return { ip: ip ? normalizeIp(ip) : null, userAgent: ctx.get('user-agent') || null };
}
