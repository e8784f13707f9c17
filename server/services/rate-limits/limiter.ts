// Attempt limiters over a RateLimitStore. A caller begins an attempt before doing the work (which
// consumes a point on each counter that counts ahead, or refuses with RATE_LIMITED) and reports
// the outcome afterwards. For those counters an attempt that throws or is never reported stays
// counted as a failure; `skip` counters (rules.ts) count only what is reported as failed, which
// `run` does for its work.
//
// A `skip` counter takes its point after a failure, so a success costs no store round trip. The
// process that charges a key's last allowed failure blocks the key in memory until the window
// ends. Another instance sharing the store learns of it at the key's next failure there (the store
// refuses that point), so across N instances a key gets at most N - 1 failures past its limit, and
// its successes on instances that have not seen a failure yet are still served.
import { hash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../errors.ts';
import { addressBlock } from '../../ip.ts';
import type { RequestMeta } from '../audit.ts';
import { LIMIT_NAMES, type CounterRule, type LimitName } from './rules.ts';
import type { RateLimitStore } from './store.ts';

export interface Attempt {
  /** The work went well: refunds or resets the counters that say so. */
  succeeded(): Promise<void>;
  /**
   * The work failed: charges the `skip` counters (the others took their point in `begin`). Throws
   * UNAVAILABLE when the store cannot count it, as `begin` does.
   */
  failed(): Promise<void>;
}

export interface Limiter {
  /**
   * Counts one attempt. `subject` is what the attempt is about (a normalized email, a user id);
   * limits keyed by IP alone ignore it. Throws AppError RATE_LIMITED, whose message and
   * retryAfterSeconds do not depend on whether the subject exists.
   */
  begin(subject: string, meta: RequestMeta, context?: RejectionContext): Promise<Attempt>;
  /**
   * begin, the work, then the report: `succeeded` for a result `ok` accepts (every result by
   * default), `failed` for any other result and for an error, which is then rethrown.
   */
  run<T>(subject: string, meta: RequestMeta, work: () => Promise<T>, ok?: (result: T) => boolean): Promise<T>;
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

/** What a counter counts by: the address, the subject, or both. */
function rawKeyOf(rule: CounterRule, subject: string, ip: string): string {
  return rule.keyBy === 'ip' ? ip : rule.keyBy === 'subject' ? subject : `${subject}\n${ip}`;
}

/** Store keys are digests: a copy of the store holds no email or address in clear, and keys stay short. */
export const storeKey = (raw: string): string => hash('sha256', raw, 'base64url');

/** Keys a process refuses without asking the store, until their window ends. */
class LocalBlocks {
  private readonly blocks = new Map<string, { until: number; refused: boolean }>();
  private static readonly SWEEP_AT = 10_000;

  block(key: string, msBeforeNext: number): void {
    if (this.blocks.size >= LocalBlocks.SWEEP_AT) this.sweep();
    this.blocks.set(key, { until: Date.now() + msBeforeNext, refused: false });
  }

  /** The time left on the key's block and whether this is its first refusal, or null if none. */
  check(key: string): { msBeforeNext: number; first: boolean } | null {
    const block = this.blocks.get(key);
    if (!block) return null;
    const msBeforeNext = block.until - Date.now();
    if (msBeforeNext <= 0) {
      this.blocks.delete(key);
      return null;
    }
    const first = !block.refused;
    block.refused = true;
    return { msBeforeNext, first };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, { until }] of this.blocks) if (until <= now) this.blocks.delete(key);
  }
}

interface Counter {
  rule: CounterRule;
  limiter: RateLimiterAbstract;
  /** `skip` counters only. */
  blocks: LocalBlocks | null;
}

function createLimiter(limit: LimitName, rules: CounterRule[], store: RateLimitStore, hooks: LimiterHooks): Limiter {
  const counters: Counter[] = rules.map((rule) => ({
    rule,
    limiter: store.counter(rule) as RateLimiterAbstract,
    blocks: rule.onSuccess === 'skip' ? new LocalBlocks() : null,
  }));

  const unavailable = (error: unknown): AppError => {
    hooks.onStoreError(error, limit);
    return new AppError('UNAVAILABLE', 'Service temporarily unavailable');
  };

  const refuse = async (rule: CounterRule, msBeforeNext: number, first: boolean, meta: RequestMeta, context: RejectionContext): Promise<never> => {
    const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    await hooks.onRejected({ limit, counter: rule.name, retryAfterSeconds, first, meta, ...context });
    throw new AppError('RATE_LIMITED', RATE_LIMITED_MESSAGE, { retryAfterSeconds });
  };

  const begin: Limiter['begin'] = async (subject, meta, context = {}) => {
    const ip = addressBlock(meta.ip ?? 'unknown');
    // Counted ahead: points taken here, keyed by digest. `skip` counters: checked in memory by
    // their raw key, charged (and digested) only if the attempt fails.
    const taken: { counter: Counter; key: string }[] = [];
    const deferred: { rule: CounterRule; limiter: RateLimiterAbstract; blocks: LocalBlocks; raw: string }[] = [];
    for (const counter of counters) {
      const { rule, limiter, blocks } = counter;
      const raw = rawKeyOf(rule, subject, ip);
      if (blocks) {
        const blocked = blocks.check(raw);
        if (blocked) await refuse(rule, blocked.msBeforeNext, blocked.first, meta, context);
        deferred.push({ rule, limiter, blocks, raw });
        continue;
      }
      const key = storeKey(raw);
      try {
        await limiter.consume(key);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw unavailable(error);
        await refuse(rule, error.msBeforeNext, error.consumedPoints === rule.points + 1, meta, context);
      }
      taken.push({ counter, key });
    }

    return {
      async succeeded() {
        if (taken.length === 0) return;
        try {
          await Promise.all(
            taken.map(({ counter: { rule, limiter }, key }) =>
              rule.onSuccess === 'reset' ? limiter.delete(key) : rule.onSuccess === 'refund' ? limiter.reward(key, 1) : undefined,
            ),
          );
        } catch (error) {
          // The work is done; a refund that did not happen only leaves the counter stricter.
          hooks.onStoreError(error, limit);
        }
      },
      async failed() {
        for (const { rule, limiter, blocks, raw } of deferred) {
          try {
            const charged = await limiter.consume(storeKey(raw));
            if (charged.consumedPoints >= rule.points) blocks.block(raw, charged.msBeforeNext);
          } catch (error) {
            // Over the limit already: another instance charged the rest, or requests raced past
            // the block while in flight.
            if (!(error instanceof RateLimiterRes)) throw unavailable(error);
            blocks.block(raw, error.msBeforeNext);
          }
        }
      },
    };
  };

  return {
    begin,
    async run(subject, meta, work, ok = () => true) {
      const attempt = await begin(subject, meta);
      let result;
      try {
        result = await work();
      } catch (error) {
        await attempt.failed();
        throw error;
      }
      await (ok(result) ? attempt.succeeded() : attempt.failed());
      return result;
    },
  };
}

export function createRateLimits(store: RateLimitStore, rules: Record<LimitName, CounterRule[]>, hooks: LimiterHooks): RateLimits {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [name, createLimiter(name, rules[name], store, hooks)])) as RateLimits;
}
