// Every rate limit and its numbers, in one place. Each limit is one or more counters; a request is
// refused (429) as soon as one of its counters is over. Counters are checked in the order listed,
// so a request refused by an earlier counter never adds to a later one.
import type { CounterSpec } from './store.ts';

/**
 * Guards count an attempt before the work and refuse it, before it runs, once a counter is over:
 * password checks, where the work is what an attacker wants (a guess) and costs a bcrypt.
 */
export const GUARD_LIMITS = ['login', 'register', 'changePassword'] as const;
/**
 * Failure limits count a failure after the work and answer it with a 429 once over; a success is
 * never counted nor refused, so one caller's junk cannot shut out another's valid credentials. For
 * credentials no one can guess (256-bit tokens, signed JWTs), on paths called once per API request.
 */
export const FAILURE_LIMITS = ['verify', 'token'] as const;

export type GuardLimitName = (typeof GUARD_LIMITS)[number];
export type FailureLimitName = (typeof FAILURE_LIMITS)[number];
export type LimitName = GuardLimitName | FailureLimitName;

/**
 * What a counter counts by: `ip`, the client address (an IPv6 client by its /64); `subject`, the
 * account or user the attempt is about; `subject+ip`, the pair; `device`, a browser that signed in
 * to the account before (login-guard.ts); `client`, the OAuth client that authenticated, or else the
 * address.
 */
export type KeyBy = 'ip' | 'subject' | 'subject+ip' | 'device' | 'client';

export interface CounterRule extends CounterSpec {
  keyBy: KeyBy;
}

export interface GuardCounterRule extends CounterRule {
  /**
   * What a success does to the point its attempt took: `keep` it (every attempt counts), `refund`
   * it (only failures count), or `reset` the counter.
   */
  onSuccess: 'keep' | 'refund' | 'reset';
  /** Only attempts from a device the account signed in on before, or only the others; default all. */
  devices?: 'known' | 'unknown';
}

export interface LimitRules {
  guards: Record<GuardLimitName, GuardCounterRule[]>;
  failures: Record<FailureLimitName, CounterRule[]>;
}

export type CounterOverrides = Record<string, Partial<Pick<CounterSpec, 'points' | 'seconds'>>>;

/**
 * The limits, from LOGIN_RATE_LIMIT (`points` failed logins per account+IP per `seconds`).
 *
 * Login: per IP, a burst cap of 4x the allowance per window and an hourly cap of 20x per 60
 * windows, so that one address cannot spray many accounts. Per account+IP, the allowance. Per
 * account, 100x per 60 windows, so that many addresses together cannot guess one password, but
 * only for clients that never signed in to the account: a device that did (its cookie) is counted
 * by its own counter instead, so such an attack never locks the owner out (OWASP's device cookies).
 */
export function limitRules(login: { points: number; seconds: number }, overrides: CounterOverrides = {}): LimitRules {
  const hourly = login.seconds * 60;
  const rules: LimitRules = {
    guards: {
      login: [
        { name: 'login_ip_burst', points: login.points * 4, seconds: login.seconds, keyBy: 'ip', onSuccess: 'refund' },
        { name: 'login_ip', points: login.points * 20, seconds: hourly, keyBy: 'ip', onSuccess: 'refund' },
        { name: 'login_account_ip', points: login.points, seconds: login.seconds, keyBy: 'subject+ip', onSuccess: 'reset' },
        { name: 'login_device', points: login.points, seconds: login.seconds, keyBy: 'device', onSuccess: 'reset', devices: 'known' },
        { name: 'login_account', points: login.points * 100, seconds: hourly, keyBy: 'subject', onSuccess: 'refund', devices: 'unknown' },
      ],
      // Sign-ups cost a bcrypt hash and a row each: every attempt counts.
      register: [{ name: 'register_ip', points: 30, seconds: 3600, keyBy: 'ip', onSuccess: 'keep' }],
      // Wrong current passwords per signed-in user, cleared by a successful change.
      changePassword: [{ name: 'change_password_user', points: 5, seconds: 900, keyBy: 'subject', onSuccess: 'reset' }],
    },
    failures: {
      // Inactive answers of auth.verify.
      verify: [{ name: 'verify_ip', points: 600, seconds: 60, keyBy: 'ip' }],
      // Failed token requests, at /oidc/token and through auth.refresh alike.
      token: [{ name: 'token_client', points: 60, seconds: 60, keyBy: 'client' }],
    },
  };
  for (const counters of [...Object.values(rules.guards), ...Object.values(rules.failures)]) {
    for (const counter of counters) Object.assign(counter, overrides[counter.name]);
  }
  return rules;
}
