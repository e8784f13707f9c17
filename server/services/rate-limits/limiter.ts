// Attempt limiters over a RateLimitStore. A caller begins an attempt before doing the work (which
// consumes a point on each counter, or refuses with RATE_LIMITED) and reports a success afterwards;
// an attempt that throws or is never reported stays counted as a failure.
import { createHash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../errors.ts';
import type { RequestMeta } from '../audit.ts';
import { LIMIT_NAMES, type CounterRule, type LimitName } from './rules.ts';
import type { RateLimitStore } from './store.ts';

export interface Attempt {
  /** The work went well: refunds or resets the counters that say so. */
  succeeded(): Promise<void>;
}

export interface Limiter {
  /**
   * Counts one attempt. `subject` is what the attempt is about (a normalized email, a user id);
   * limits keyed by IP alone ignore it. Throws AppError RATE_LIMITED, whose message and
   * retryAfterSeconds do not depend on whether the subject exists.
   */
  begin(subject: string, meta: RequestMeta, context?: RejectionContext): Promise<Attempt>;
}

/** What the audit row of a rejection may name besides the IP: the user, and safe metadata. */
export interface RejectionContext {
  userId?: string | null;
  metadata?: Record<string, unknown>;
}

export interface Rejection extends RejectionContext {
  limit: LimitName;
  counter: string;
  retryAfterSeconds: number;
  /** The first refusal of this key in its window: the one worth an audit row. */
  first: boolean;
  meta: RequestMeta;
}

export interface LimiterHooks {
  /** Every refusal (metrics, audit). Awaited: when it throws, the request fails with its error. */
  onRejected(rejection: Rejection): Promise<void>;
  /** The store failed; the request fails with UNAVAILABLE. */
  onStoreError(error: unknown, limit: LimitName): void;
}

export type RateLimits = Record<LimitName, Limiter>;

export const RATE_LIMITED_MESSAGE = 'Too many attempts, try again later';

/** Keys are digests: a copy of the store holds no email or address in clear, and keys stay short. */
function keyOf(rule: CounterRule, subject: string, ip: string): string {
  const raw = rule.keyBy === 'ip' ? ip : rule.keyBy === 'subject' ? subject : `${subject}\n${ip}`;
  return createHash('sha256').update(raw).digest('base64url');
}

function createLimiter(limit: LimitName, rules: CounterRule[], store: RateLimitStore, hooks: LimiterHooks): Limiter {
  const counters = rules.map((rule) => ({ rule, limiter: store.counter(rule) as RateLimiterAbstract }));

  return {
    async begin(subject, meta, context = {}) {
      const ip = meta.ip ?? 'unknown';
      const taken: { rule: CounterRule; limiter: RateLimiterAbstract; key: string }[] = [];
      for (const { rule, limiter } of counters) {
        const key = keyOf(rule, subject, ip);
        try {
          await limiter.consume(key);
        } catch (error) {
          if (!(error instanceof RateLimiterRes)) {
            hooks.onStoreError(error, limit);
            throw new AppError('UNAVAILABLE', 'Service temporarily unavailable');
          }
          const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
          await hooks.onRejected({ limit, counter: rule.name, retryAfterSeconds, first: error.consumedPoints === rule.points + 1, meta, ...context });
          throw new AppError('RATE_LIMITED', RATE_LIMITED_MESSAGE, { retryAfterSeconds });
        }
        taken.push({ rule, limiter, key });
      }
      return {
        async succeeded() {
          try {
            await Promise.all(
              taken.map(({ rule, limiter, key }) =>
                rule.onSuccess === 'reset' ? limiter.delete(key) : rule.onSuccess === 'refund' ? limiter.reward(key, 1) : undefined,
              ),
            );
          } catch (error) {
            // The work is done; a refund that did not happen only leaves the counter stricter.
            hooks.onStoreError(error, limit);
          }
        },
      };
    },
  };
}

export function createRateLimits(store: RateLimitStore, rules: Record<LimitName, CounterRule[]>, hooks: LimiterHooks): RateLimits {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, createLimiter(name, rules[name], store, hooks)])) as RateLimits;
}
