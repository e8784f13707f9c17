// Every rate limit: counters checked in order; the first one over refuses (429), later ones are not charged.
import type { CounterSpec } from './store.ts';

/** Counted before the work: password checks, where the work is the guess an attacker wants and costs a bcrypt. */
export const GUARD_LIMITS = ['login', 'mfa', 'register', 'changePassword', 'changeEmail', 'passwordReset', 'resendVerification'] as const;
/** Counted on failure only, for credentials no one can guess: one caller's junk never shuts out valid ones. */
export const FAILURE_LIMITS = ['verify', 'token'] as const;

export type GuardLimitName = (typeof GUARD_LIMITS)[number];
export type FailureLimitName = (typeof FAILURE_LIMITS)[number];
export type LimitName = GuardLimitName | FailureLimitName;

// ip: the address (an IPv6 client by its /64); subject: the account or user; subject+ip: the pair;
// device: a browser that signed in to the account before; client: the OAuth client, else the address.
export type KeyBy = 'ip' | 'subject' | 'subject+ip' | 'device' | 'client';

export interface CounterRule extends CounterSpec {
  keyBy: KeyBy;
}

export interface GuardCounterRule extends CounterRule {
  /** What a success does to its point: `keep` it, `refund` it (only failures count) or `reset` the counter. */
  onSuccess: 'keep' | 'refund' | 'reset';
  /** Only attempts from a device the account signed in on before, or only the others; default all. */
  devices?: 'known' | 'unknown';
}

export interface LimitRules {
  guards: Record<GuardLimitName, GuardCounterRule[]>;
  failures: Record<FailureLimitName, CounterRule[]>;
}

export type CounterOverrides = Record<string, Partial<Pick<CounterSpec, 'points' | 'seconds'>>>;

/** The limits, scaled from LOGIN_RATE_LIMIT: `points` failed logins per account+IP per `seconds`. */
export function limitRules(login: { points: number; seconds: number }, overrides: CounterOverrides = {}): LimitRules {
  const hourly = login.seconds * 60;
  const rules: LimitRules = {
    guards: {
      // Login: per IP against spraying accounts; per account against many IPs guessing one, known devices apart.
      login: [
        { name: 'login_ip_burst', points: login.points * 4, seconds: login.seconds, keyBy: 'ip', onSuccess: 'refund' },
        { name: 'login_ip', points: login.points * 20, seconds: hourly, keyBy: 'ip', onSuccess: 'refund' },
        { name: 'login_account_ip', points: login.points, seconds: login.seconds, keyBy: 'subject+ip', onSuccess: 'reset' },
        { name: 'login_device', points: login.points, seconds: login.seconds, keyBy: 'device', onSuccess: 'reset', devices: 'known' },
        { name: 'login_account', points: login.points * 100, seconds: hourly, keyBy: 'subject', onSuccess: 'refund', devices: 'unknown' },
      ],
      // Second-factor codes per account, from one address and from all: a thief of the password gets
      // a few guesses per window, however many challenges they open.
      mfa: [
        { name: 'mfa_ip', points: login.points * 4, seconds: login.seconds, keyBy: 'ip', onSuccess: 'refund' },
        { name: 'mfa_account_ip', points: login.points, seconds: login.seconds, keyBy: 'subject+ip', onSuccess: 'reset' },
        { name: 'mfa_account', points: login.points * 4, seconds: hourly, keyBy: 'subject', onSuccess: 'refund' },
      ],
      // Sign-ups cost a bcrypt hash and a row each: every attempt counts.
      register: [{ name: 'register_ip', points: 30, seconds: 3600, keyBy: 'ip', onSuccess: 'keep' }],
      // Password changes per user, against guessing the current password; cleared by a successful change.
      changePassword: [{ name: 'change_password_user', points: 5, seconds: 900, keyBy: 'subject', onSuccess: 'reset' }],
      // Email changes per user, kept on success: each one mails an address the user only names.
      changeEmail: [{ name: 'change_email_user', points: 5, seconds: 3600, keyBy: 'subject', onSuccess: 'keep' }],
      // Mail on request, per address and per recipient: no one turns Gatehouse into a mail cannon.
      passwordReset: [
        { name: 'password_reset_ip', points: 20, seconds: 3600, keyBy: 'ip', onSuccess: 'keep' },
        { name: 'password_reset_email', points: 5, seconds: 3600, keyBy: 'subject', onSuccess: 'keep' },
      ],
      resendVerification: [
        { name: 'resend_verification_ip', points: 20, seconds: 3600, keyBy: 'ip', onSuccess: 'keep' },
        { name: 'resend_verification_email', points: 5, seconds: 3600, keyBy: 'subject', onSuccess: 'keep' },
      ],
    },
    failures: {
      // auth.verify: inactive answers per address, against probing for tokens.
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
