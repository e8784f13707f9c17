// Password hashing and policy. Passwords are NFKC-normalized first: the same characters typed anywhere match.
import { isIP } from 'node:net';
import { hash, verify } from '@node-rs/bcrypt';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../errors.ts';
import { MAX_PASSWORD_BYTES, normalizePassword } from '../common/inputs.ts';

export type PasswordPolicy = 'standard' | 'nist';

const MIN_BYTES: Record<PasswordPolicy, number> = { standard: 8, nist: 15 };

const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

// The usual substitutions; `1` stands for i or l, so both readings are tried.
const LEET: Record<string, string> = { '@': 'a', '4': 'a', '8': 'b', '(': 'c', '3': 'e', '6': 'g', '9': 'g', '!': 'i', '|': 'i', '0': 'o', '5': 's', '$': 's', '7': 't', '+': 't', '2': 'z' };
const unleet = (text: string, one: 'i' | 'l') => text.replace(/[@48(3691!|05$7+2]/g, (c) => (c === '1' ? one : LEET[c]!));
const AFFIXES = /^[^\p{L}]+|[^\p{L}]+$/gu;

function readings(lower: string): string[] {
  const core = lower.replace(AFFIXES, '');
  const forms = [lower, unleet(lower, 'i'), unleet(lower, 'l')];
  if (core.length >= 4) forms.push(core, unleet(core, 'i'), unleet(core, 'l'));
  return forms;
}

const GENERIC_LABELS = new Set(['www', 'auth', 'login', 'sso', 'account', 'accounts', 'app', 'api', 'id', 'idp']);

/** The words a password of this service must not contain: its name, and the PUBLIC_URL host. */
export function serviceWords(publicUrl: string): string[] {
  const { hostname } = new URL(publicUrl);
  if (isIP(hostname.replace(/^\[|\]$/g, ''))) return ['gatehouse'];
  const labels = hostname.split('.').slice(0, -1).filter((label) => label.length >= 4 && !GENERIC_LABELS.has(label));
  return [...new Set(['gatehouse', hostname, ...labels])];
}

export interface PolicyWords {
  personal?: string[];
  service?: string[];
}

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

/** `rehash`: the stored hash is of the password as typed, not normalized, and should be replaced. */
export type PasswordCheck = { ok: false } | { ok: true; rehash: boolean };

export interface Passwords {
  /** WEAK_PASSWORD, with the reasons under `field`, unless the password meets the policy. */
  assertStrong(password: string, personal: string[], field?: string): void;
  hash(password: string): Promise<string>;
  verify(password: string, passwordHash: string): Promise<PasswordCheck>;
  /** Spends the time of a failed verify without a stored hash, so unknown accounts answer as slowly. */
  verifyDummy(password: string): Promise<PasswordCheck>;
}

// bcrypt jobs let into libuv's thread pool at once. The pool is a FIFO shared with WebCrypto (every JWT
// signature): a thread kept free stops a burst of logins from queueing ahead of token checks.
export const BCRYPT_CONCURRENCY = 3;

function limit(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active < max) active += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}

export interface PasswordsOptions {
  cost: number;
  policy: PasswordPolicy;
  publicUrl: string;
  concurrency?: number;
}

export async function createPasswords({ cost, policy, publicUrl, concurrency = BCRYPT_CONCURRENCY }: PasswordsOptions): Promise<Passwords> {
  const service = serviceWords(publicUrl);
  // Hashed while the rest starts, not before: only a verifyDummy in the first moments waits for it.
  const dummyHash = hash('gatehouse-dummy-password', { cost });
  dummyHash.catch(() => {}); // a failure is the first verifyDummy's
  const run = limit(concurrency);
  const check = async (password: string, passwordHash: string): Promise<PasswordCheck> => {
    const normalized = normalizePassword(password);
    if (await run(() => verify(normalized, passwordHash))) return { ok: true, rehash: false };
    // The form as typed is tried too whenever it differs, the dummy included, so timing tells nothing.
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
      await check(password, await dummyHash);
      return { ok: false };
    },
  };
}
