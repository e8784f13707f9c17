// Every rate limit and its numbers, in one place. Each limit is one or more counters; a request is
// refused (429) as soon as one of its counters is over. Counters are checked in the order listed,
// so a request refused by an earlier counter never adds to a later one.
import type { CounterSpec } from './store.ts';

export const LIMIT_NAMES = ['login', 'register', 'refresh', 'verify', 'changePassword', 'token'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/**
 * What a successful attempt does to a counter. The first three take their point before the work,
 * so attempts in flight count too (a burst of parallel password guesses is refused while it runs):
 * - `keep`: every attempt counts (register);
 * - `refund`: only failures count (the attempt's point is given back on success);
 * - `reset`: a success clears the counter (failed logins per account+IP).
 * The fourth never touches the store for a success, for cheap endpoints that see a request per API
 * call, where a store write per request would cost more than the work it guards:
 * - `skip`: a point is taken only after a failure; once a key's failures reach the limit, the
 *   process that saw it refuses the key for the rest of the window without asking the store (see
 *   limiter.ts for what another instance sees).
 */
export type OnSuccess = 'keep' | 'refund' | 'reset' | 'skip';

/** `ip`: the client IP; `subject`: the account or user the attempt is about; both: the pair. */
export type KeyBy = 'ip' | 'subject' | 'subject+ip';

export interface CounterRule extends CounterSpec {
  keyBy: KeyBy;
  onSuccess: OnSuccess;
}

export type CounterOverrides = Record<string, Partial<Pick<CounterSpec, 'points' | 'seconds'>>>;

/**
 * The limits, from LOGIN_RATE_LIMIT (`points` failed logins per account+IP per `seconds`).
 *
 * Login has three counters. Per IP: 20x the per-account+IP allowance in a window 60x as long
 * (5/60 s gives 100 failures an hour), so one address cannot spray many accounts. Per account:
 * 5x the per-IP allowance in the same window. A single IP can only reach the per-account counter
 * through its own per-IP counter (which is consumed first), so in any span of one window it adds
 * at most 2x its allowance (two adjacent fixed windows) to an account: less than the account's
 * limit, hence no one can lock a user out from a single IP. Only a distributed attack can, and
 * then the lock-out is the point.
 */
export function limitRules(login: { points: number; seconds: number }, overrides: CounterOverrides = {}): Record<LimitName, CounterRule[]> {
  const ipPoints = login.points * 20;
  const wideWindow = login.seconds * 60;
  const rules: Record<LimitName, CounterRule[]> = {
    login: [
      { name: 'login_ip', points: ipPoints, seconds: wideWindow, keyBy: 'ip', onSuccess: 'refund' },
      { name: 'login_account_ip', points: login.points, seconds: login.seconds, keyBy: 'subject+ip', onSuccess: 'reset' },
      { name: 'login_account', points: ipPoints * 5, seconds: wideWindow, keyBy: 'subject', onSuccess: 'refund' },
    ],
    // Sign-ups cost a bcrypt hash and a row each: every attempt counts.
    register: [{ name: 'register_ip', points: 30, seconds: 3600, keyBy: 'ip', onSuccess: 'keep' }],
    // Failures only: a client refreshing (or a service verifying) as often as it likes is fine; one
    // presenting unknown tokens over and over is probing. Each attempt is cheap and gives an
    // attacker one guess at a 256-bit token, so a failure is counted once known rather than ahead.
    refresh: [{ name: 'refresh_ip', points: 60, seconds: 60, keyBy: 'ip', onSuccess: 'skip' }],
    verify: [{ name: 'verify_ip', points: 600, seconds: 60, keyBy: 'ip', onSuccess: 'skip' }],
    token: [{ name: 'token_ip', points: 60, seconds: 60, keyBy: 'ip', onSuccess: 'skip' }],
    // Wrong current passwords per signed-in user, cleared by a successful change.
    changePassword: [{ name: 'change_password_user', points: 5, seconds: 900, keyBy: 'subject', onSuccess: 'reset' }],
  };
  for (const counters of Object.values(rules)) {
    for (const counter of counters) Object.assign(counter, overrides[counter.name]);
  }
  return rules;
}
