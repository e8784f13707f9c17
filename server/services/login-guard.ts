// Password sign-in under the login limit, with device cookies: a device that signed in to an account is
// counted apart, so many addresses guessing one password never lock its owner out. The device token
// (an HMAC of a random id and the email) proves only a past sign-in: it is no credential.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestMeta } from '../common/audit-events.ts';
import type { GuardLimiter } from './rate-limits/limiter.ts';

export interface DeviceCookie {
  read(): string | null;
  write(value: string): void;
}

export const NO_DEVICE_COOKIE: DeviceCookie = { read: () => null, write: () => {} };

/** Accounts remembered per client: a shared computer keeps a few. */
const MAX_ACCOUNTS = 5;
const ENTRY = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/;

export interface LoginGuard {
  /** Runs `check` under the login limit; after a success the device is remembered. RATE_LIMITED when refused. */
  run<T>(email: string, meta: RequestMeta, device: DeviceCookie, metadata: Record<string, unknown>, check: () => Promise<T>): Promise<T>;
  /** Remembers the device for `email` after a sign-in the limit does not guard (a sign-up). */
  remember(email: string, device: DeviceCookie): void;
}

export function createLoginGuard({ limit, secrets }: { limit: GuardLimiter; secrets: readonly string[] }): LoginGuard {
  const tag = (secret: string, email: string, id: string) => createHmac('sha256', secret).update(`gatehouse-device\n${email}\n${id}`).digest().subarray(0, 16).toString('base64url');
  const entries = (cookie: string | null) =>
    (cookie ?? '')
      .split('~', MAX_ACCOUNTS)
      .map((entry) => ENTRY.exec(entry))
      .filter((match) => match !== null)
      .map(([entry, id, mac]) => ({ entry, id: id!, mac: Buffer.from(mac!) }));
  const belongs = (email: string, { id, mac }: { id: string; mac: Buffer }) => secrets.some((secret) => timingSafeEqual(Buffer.from(tag(secret, email, id)), mac));
  const deviceOf = (cookie: string | null, email: string) => entries(cookie).find((entry) => belongs(email, entry))?.id ?? null;

  function remember(email: string, device: DeviceCookie, cookie = device.read(), known = deviceOf(cookie, email)): void {
    const id = known ?? randomBytes(16).toString('base64url');
    const others = entries(cookie).filter((entry) => !belongs(email, entry)).map(({ entry }) => entry);
    device.write([`${id}.${tag(secrets[0]!, email, id)}`, ...others].slice(0, MAX_ACCOUNTS).join('~'));
  }

  return {
    async run(email, meta, device, metadata, check) {
      const cookie = device.read();
      const known = deviceOf(cookie, email);
      const attempt = await limit.begin(email, meta, { metadata: { email, ...metadata }, device: known });
      const result = await check();
      await attempt.succeeded();
      remember(email, device, cookie, known);
      return result;
    },
    remember,
  };
}
