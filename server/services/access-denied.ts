// access_denied audit rows, at most one per user and procedure a minute, so a refusal loop cannot fill the trail.
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestMeta } from '../common/audit-events.ts';
import type { Audit } from './audit.ts';
import { storeKey } from './rate-limits/limiter.ts';
import { LocalBlocks } from './rate-limits/local-blocks.ts';
import type { RateLimitStore } from './rate-limits/store.ts';

const WINDOW_SECONDS = 60;

export interface AccessDenied {
  /** The signed-in user; null for a client acting with its own token (meta names it). */
  userId: string | null;
  procedure: string;
  reason: string;
  metadata: Record<string, unknown>;
  meta: RequestMeta;
}

export interface AccessDenials {
  record(denied: AccessDenied): Promise<void>;
}

export function createAccessDenials({ audit, store }: { audit: Audit; store: RateLimitStore }): AccessDenials {
  const counter = store.counter({ name: 'access_denied_audit', points: 1, seconds: WINDOW_SECONDS });
  // Keys this process recorded already: no store round trip until their window ends.
  const recorded = new LocalBlocks();

  async function first(key: string): Promise<boolean> {
    if (recorded.check(key)) return false;
    try {
      const res = await counter.consume(storeKey(key));
      recorded.block(key, res.msBeforeNext);
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) return true; // the store cannot say: record rather than lose the row
      recorded.block(key, error.msBeforeNext);
      return false;
    }
  }

  return {
    async record({ userId, procedure, reason, metadata, meta }) {
      if (!(await first(`${userId ?? `client:${meta.actorClientId}`}\n${procedure}`))) return;
      await audit.record({ type: 'access_denied', success: false, userId, actorId: userId, reason, metadata: { procedure, ...metadata }, ...meta });
    },
  };
}
