// Password hashing and policy. bcrypt runs on libuv's thread pool, never on the event loop.
// Passwords are NFKC-normalized before they are measured, checked or hashed, so the same characters
// typed on another keyboard (composed accents, full-width letters) are the same password.
import { isIP } from 'node:net';
import { hash, verify } from '@node-rs/bcrypt';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../errors.ts';
import { MAX_PASSWORD_BYTES, normalizePassword } from '../shared/inputs.ts';

export type PasswordPolicy = 'standard' | 'nist';

const MIN_BYTES: Record<PasswordPolicy, number> = { standard: 8, nist: 15 };

const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  // ~49,000 leaked passwords from zxcvbn-ts's maintained list, loaded on first use.
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

// The usual substitutions; `1` stands for i or l, so both readings are tried.
const LEET: Record<string, string> = { '@': 'a', '4': 'a', '8': 'b', '(': 'c', '3': 'e', '6': 'g', '9': 'g', '!': 'i', '|': 'i', '0': 'o', '5': 's', '$': 's', '7': 't', '+': 't', '2': 'z' };
const unleet = (text: string, one: 'i' | 'l') => text.replace(/[@48(3691!|05$7+2]/g, (c) => (c === '1' ? one : LEET[c]!));
/** Digits and symbols around the letters: Password1!, 2024Summer, !!Dragon. */
const AFFIXES = /^[^\p{L}]+|[^\p{L}]+$/gu;

/** The forms of a lower-cased password to look up: as typed, without its affixes, de-leeted. */
function readings(lower: string): string[] {
  const core = lower.replace(AFFIXES, '');
  const forms = [lower, unleet(lower, 'i'), unleet(lower, 'l')];
  // A short core is no word to look up: A8374619283746! is not "a".
  if (core.length >= 4) forms.push(core, unleet(core, 'i'), unleet(core, 'l'));
  return forms;
}

/** Labels of a host that name no service in particular. */
const GENERIC_LABELS = new Set(['www', 'auth', 'login', 'sso', 'account', 'accounts', 'app', 'api', 'id', 'idp']);

/** The words a password of this service must not contain: its name, and the PUBLIC_URL host. */
export function serviceWords(publicUrl: string): string[] {
  const { hostname } = new URL(publicUrl);
  if (isIP(hostname.replace(/^\[|\]$/g, ''))) return ['gatehouse'];
  const labels = hostname.split('.').slice(0, -1).filter((label) => label.length >= 4 && !GENERIC_LABELS.has(label));
  return [...new Set(['gatehouse', hostname, ...labels])];
}

export interface PolicyWords {
  /** The user's own: the email's local part, the name. */
  personal?: string[];
  /** The service's own (serviceWords). */
  service?: string[];
}

/** The reasons `password` fails `policy`; empty when it passes. */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy, { personal = [], service = [] }: PolicyWords = {}): string[] {
  const normalized = normalizePassword(password);
  const reasons: string[] = [];
  const bytes = bytesOf(normalized);
  if (bytes < MIN_BYTES[policy]) reasons.push(`Must be at least ${MIN_BYTES[policy]} characters long`);
  if (bytes > MAX_PASSWORD_BYTES) reasons.push(`Must be at most ${MAX_PASSWORD_BYTES} bytes long`);
  if (policy === 'standard') {
    if (!/\p{Lu}/u.test(normalized)) reasons.push('Must contain an upper-case letter');
    if (!/\p{Ll}/u.test(normalized)) reasons.push('Must contain a lower-case letter');
    if (!/\p{Nd}/u.test(normalized)) reasons.push('Must contain a digit');
  }
  const forms = readings(normalized.toLowerCase());
  const contains = (words: string[]) => words.some((word) => word.length >= 4 && forms.some((form) => form.includes(word.toLowerCase())));
  if (forms.some((form) => commonPasswords().has(form))) reasons.push('Is too common: it appears in lists of leaked passwords');
  else if (contains(service)) reasons.push('Must not contain the name of this service');
  else if (contains(personal)) reasons.push('Must not contain your email or name');
  return reasons;
}

/** A password check: `rehash` when the stored hash predates normalization and should be replaced. */
export type PasswordCheck = { ok: false } | { ok: true; rehash: boolean };

export interface Passwords {
  /** WEAK_PASSWORD, with the reasons under `field`, unless the password meets the policy. */
  assertStrong(password: string, personal: string[], field?: string): void;
  hash(password: string): Promise<string>;
  verify(password: string, passwordHash: string): Promise<PasswordCheck>;
  /** Spends the time of a failed verify without a stored hash, so unknown accounts answer as slowly. */
  verifyDummy(password: string): Promise<PasswordCheck>;
}

/**
 * How many bcrypt jobs may sit in libuv's thread pool (4 threads) at once. The pool is a FIFO queue
 * shared with WebCrypto (every JWT signature) and fs: one thread kept free means a burst of logins
 * never queues ahead of the token checks of unrelated requests.
 */
export const BCRYPT_CONCURRENCY = 3;

/** Runs at most `max` of the given jobs at once, the rest in arrival order. */
function limit(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active < max) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await job();
    } finally {
      // Hand the slot straight to the next job, or give it back.
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

export interface PasswordsOptions {
  cost: number;
  policy: PasswordPolicy;
  /** PUBLIC_URL: its host is one of the words a password must not contain. */
  publicUrl: string;
  concurrency?: number;
}

export async function createPasswords({ cost, policy, publicUrl, concurrency = BCRYPT_CONCURRENCY }: PasswordsOptions): Promise<Passwords> {
  const service = serviceWords(publicUrl);
  const dummyHash = await hash('gatehouse-dummy-password', { cost });
  const run = limit(concurrency);
  const check = async (password: string, passwordHash: string): Promise<PasswordCheck> => {
    const normalized = normalizePassword(password);
    if (await run(() => verify(normalized, passwordHash))) return { ok: true, rehash: false };
    // A hash made before passwords were normalized holds the bytes as they were typed then (never
    // more than 72). Tried whenever the forms differ, the dummy included, so timing tells nothing.
    if (normalized === password || bytesOf(password) > MAX_PASSWORD_BYTES) return { ok: false };
    return (await run(() => verify(password, passwordHash))) ? { ok: true, rehash: true } : { ok: false };
  };
  return {
    assertStrong(password, personal, field = 'password') {
      const reasons = checkPasswordPolicy(password, policy, { personal, service });
      if (reasons.length > 0) throw new AppError('WEAK_PASSWORD', 'Password does not meet the policy', { fieldErrors: { [field]: reasons } });
    },
    hash: (password) => run(() => hash(normalizePassword(password), { cost, rejectLongPasswords: true })),
    verify: check,
    verifyDummy: async (password) => {
      await check(password, dummyHash);
      return { ok: false };
    },
  };
}
