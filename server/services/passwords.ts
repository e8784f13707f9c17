// Password hashing and policy. bcrypt runs on libuv's thread pool (@node-rs/bcrypt's async API),
// never on the event loop.
import { hash, verify } from '@node-rs/bcrypt';
import { dictionary } from '@zxcvbn-ts/language-common';

export type PasswordPolicy = 'standard' | 'nist';

/** bcrypt reads at most 72 bytes; anything longer is refused, never silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

const MIN_BYTES: Record<PasswordPolicy, number> = { standard: 8, nist: 15 };

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  // ~49,000 leaked passwords from zxcvbn-ts's maintained list, loaded on first use.
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
}

/** The reasons `password` fails `policy`; empty when it passes. */
export function checkPasswordPolicy(password: string, policy: PasswordPolicy, context: string[] = []): string[] {
  const reasons: string[] = [];
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes < MIN_BYTES[policy]) reasons.push(`Must be at least ${MIN_BYTES[policy]} characters long`);
  if (bytes > MAX_PASSWORD_BYTES) reasons.push(`Must be at most ${MAX_PASSWORD_BYTES} bytes long`);
  if (policy === 'standard') {
    if (!/\p{Lu}/u.test(password)) reasons.push('Must contain an upper-case letter');
    if (!/\p{Ll}/u.test(password)) reasons.push('Must contain a lower-case letter');
    if (!/\p{Nd}/u.test(password)) reasons.push('Must contain a digit');
  }
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) reasons.push('Is too common: it appears in lists of leaked passwords');
  else if (context.some((word) => word.length >= 4 && lower.includes(word.toLowerCase()))) {
    reasons.push('Must not contain your email or name');
  }
  return reasons;
}

export interface Passwords {
  hash(password: string): Promise<string>;
  verify(password: string, passwordHash: string): Promise<boolean>;
  /** Spends the time of one verify without a stored hash, so unknown accounts answer as slowly. */
  verifyDummy(password: string): Promise<false>;
}

/**
 * How many bcrypt jobs may sit in libuv's thread pool at once. The pool (4 threads by default) is a
 * FIFO queue shared with WebCrypto, which jose uses for every JWT signature and verification, and
 * with fs and DNS. Unbounded, a burst of logins queues ahead of all of them: each login's own
 * access-token signature then waits for every verify queued after its own, and so do the token
 * checks of unrelated requests. One thread fewer than the default pool keeps one always free, and
 * bcrypt still gets as many threads as it could have had.
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

export async function createPasswords(cost: number, { concurrency = BCRYPT_CONCURRENCY } = {}): Promise<Passwords> {
  const dummyHash = await hash('gatehouse-dummy-password', { cost });
  const run = limit(concurrency);
  return {
    hash: (password) => run(() => hash(password, { cost, rejectLongPasswords: true })),
    verify: (password, passwordHash) => run(() => verify(password, passwordHash)),
    verifyDummy: async (password) => {
      await run(() => verify(password, dummyHash));
      return false;
    },
  };
}
