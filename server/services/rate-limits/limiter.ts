// Limiters over a RateLimitStore. A guard takes its points before the work and settles them on success;
// an attempt that throws or is never reported stays counted. A failure limit counts failures only; the
// process that charges a key's last failure refuses it in memory until its window ends.
import { hash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError, RATE_LIMITED_MESSAGE } from '../../errors.ts';
import { addressBlock } from '../../common/ip.ts';
import type { RequestMeta } from '../../common/audit-events.ts';
import { FAILURE_LIMITS, GUARD_LIMITS, type CounterRule, type FailureLimitName, type GuardCounterRule, type GuardLimitName, type LimitName, type LimitRules } from './rules.ts';
import { LocalBlocks } from './local-blocks.ts';
import type { RateLimitStore } from './store.ts';

export interface Attempt {
  succeeded(): Promise<void>;
}

export interface AttemptContext {
  userId?: string | null;
  metadata?: Record<string, unknown>;
  device?: string | null;
}

export interface GuardLimiter {
  /** Counts one attempt about `subject`; a refusal reads the same whether or not the subject exists. */
  begin(subject: string, meta: RequestMeta, context?: AttemptContext): Promise<Attempt>;
}

export interface FailureLimiter {
  /** Counts one failure: RATE_LIMITED once over, UNAVAILABLE when the store cannot count it. */
  failed(subject: string, meta: RequestMeta, context?: AttemptContext): Promise<void>;
  run<T>(subject: string, meta: RequestMeta, work: () => Promise<T>, ok: (result: T) => boolean): Promise<T>;
}

export interface Rejection extends Omit<AttemptContext, 'device'> {
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
  onStoreError(error: unknown, limit: LimitName): void;
}

export type RateLimits = Record<GuardLimitName, GuardLimiter> & Record<FailureLimitName, FailureLimiter>;

function rawKeyOf(rule: CounterRule, subject: string, meta: RequestMeta, device: string | null | undefined): string {
  switch (rule.keyBy) {
    case 'subject':
      return subject;
    case 'device':
      return `device\n${device}`;
    case 'client':
      return subject ? `client\n${subject}` : `ip\n${addressBlock(meta.ip ?? 'unknown')}`;
    case 'subject+ip':
      return `${subject}\n${addressBlock(meta.ip ?? 'unknown')}`;
    case 'ip':
      return addressBlock(meta.ip ?? 'unknown');
  }
}

/** Store keys are digests: a copy of the store holds no email or address in clear, and keys stay short. */
export const storeKey = (raw: string): string => hash('sha256', raw, 'base64url');

function refusals(limit: LimitName, store: RateLimitStore, hooks: LimiterHooks) {
  return {
    unavailable(error: unknown): AppError {
      hooks.onStoreError(error, limit);
      return new AppError('UNAVAILABLE', 'Service temporarily unavailable');
    },
    async refuse(rule: CounterRule, msBeforeNext: number, first: boolean, meta: RequestMeta, { device: _device, ...context }: AttemptContext): Promise<never> {
      const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
      await hooks.onRejected({ limit, counter: rule.name, retryAfterSeconds, first, meta, ...context });
      throw new AppError('RATE_LIMITED', RATE_LIMITED_MESSAGE, { retryAfterSeconds });
    },
    counter: (rule: CounterRule) => store.counter(rule) as RateLimiterAbstract,
  };
}

function createGuard(limit: LimitName, rules: GuardCounterRule[], store: RateLimitStore, hooks: LimiterHooks): GuardLimiter {
  const { unavailable, refuse, counter } = refusals(limit, store, hooks);
  const counters = rules.map((rule) => ({ rule, limiter: counter(rule) }));
  return {
    async begin(subject, meta, context = {}) {
      const known = Boolean(context.device);
      const taken: { rule: GuardCounterRule; limiter: RateLimiterAbstract; key: string }[] = [];
      for (const { rule, limiter } of counters) {
        if ((rule.devices === 'known' && !known) || (rule.devices === 'unknown' && known)) continue;
        const key = storeKey(rawKeyOf(rule, subject, meta, context.device));
        try {
          await limiter.consume(key);
        } catch (error) {
          if (!(error instanceof RateLimiterRes)) throw unavailable(error);
          await refuse(rule, error.msBeforeNext, error.consumedPoints === rule.points + 1, meta, context);
        }
        taken.push({ rule, limiter, key });
      }
      return {
        async succeeded() {
          try {
            await Promise.all(
              taken.map(({ rule, limiter, key }) => (rule.onSuccess === 'reset' ? limiter.delete(key) : rule.onSuccess === 'refund' ? limiter.reward(key, 1) : undefined)),
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

function createFailureLimit(limit: LimitName, rules: CounterRule[], store: RateLimitStore, hooks: LimiterHooks): FailureLimiter {
  const { unavailable, refuse, counter } = refusals(limit, store, hooks);
  const counters = rules.map((rule) => ({ rule, limiter: counter(rule), blocks: new LocalBlocks() }));

  const failed: FailureLimiter['failed'] = async (subject, meta, context = {}) => {
    for (const { rule, limiter, blocks } of counters) {
      const raw = rawKeyOf(rule, subject, meta, context.device);
      const blocked = blocks.check(raw);
      if (blocked) await refuse(rule, blocked.msBeforeNext, blocked.first, meta, context);
      try {
        const charged = await limiter.consume(storeKey(raw));
        if (charged.consumedPoints >= rule.points) blocks.block(raw, charged.msBeforeNext);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw unavailable(error);
        // Over already: another instance charged the rest, or failures raced past the block.
        const first = error.consumedPoints === rule.points + 1;
        blocks.block(raw, error.msBeforeNext, true);
        await refuse(rule, error.msBeforeNext, first, meta, context);
      }
    }
  };

  return {
    failed,
    async run(subject, meta, work, ok) {
      let result;
      try {
        result = await work();
      } catch (error) {
        await failed(subject, meta);
        throw error;
      }
      if (!ok(result)) await failed(subject, meta);
      return result;
    },
  };
}

export function createRateLimits(store: RateLimitStore, rules: LimitRules, hooks: LimiterHooks): RateLimits {
  const guards = Object.fromEntries(GUARD_LIMITS.map((name) => [name, createGuard(name, rules.guards[name], store, hooks)]));
  const failures = Object.fromEntries(FAILURE_LIMITS.map((name) => [name, createFailureLimit(name, rules.failures[name], store, hooks)]));
  return { ...guards, ...failures } as RateLimits;
}
