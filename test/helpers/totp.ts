// TOTP codes computed in the test, as an authenticator app would, from the secret the service handed out.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';

const PERIOD = 30;
const lastUsed = new Map<string, number>();

const stepNow = () => Math.floor(Date.now() / 1000 / PERIOD);

/** The code of `secret` (base32) at time step `step`. */
export function codeAt(secret: string, step: number): string {
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(step), 6);
}

/**
 * A code the service accepts now and has not seen: the next unused step of the ±1 window, in order
 * (the service accepts only steps after the last one used). Waits for the next period when the window
 * is spent. A step about to leave the window is skipped, so that the code is still good on arrival.
 */
export async function nextCode(secret: string): Promise<string> {
  for (;;) {
    const now = stepNow();
    const intoStep = (Date.now() / 1000) % PERIOD;
    const earliest = Math.max((lastUsed.get(secret) ?? -Infinity) + 1, intoStep > PERIOD - 5 ? now : now - 1);
    if (earliest <= now + 1) {
      lastUsed.set(secret, earliest);
      return codeAt(secret, earliest);
    }
    await new Promise((resolve) => setTimeout(resolve, (PERIOD - intoStep) * 1000 + 50));
  }
}

/** A code that was good once and is now outside the window (two steps ago). */
export function expiredCode(secret: string): string {
  return codeAt(secret, stepNow() - 3);
}

/** A well-formed code that is none of the window's (for wrong-code tests). */
export function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((d) => codeAt(secret, stepNow() + d)));
  for (let n = 0; ; n++) {
    const candidate = String((Number.parseInt(codeAt(secret, stepNow()), 10) + 1 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}
