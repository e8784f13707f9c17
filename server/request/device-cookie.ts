// The login limit's device cookie: HttpOnly, SameSite=Lax, site-wide, a year; __Host- and Secure when
// PUBLIC_URL is https. Our own HMAC protects it, so Koa's signing is off.
import type { Context } from 'koa';
import type { DeviceCookie } from '../services/login-guard.ts';

const MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

export class KoaDeviceCookie implements DeviceCookie {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  #name(): string {
    return this.#ctx.secure ? '__Host-gatehouse-device' : 'gatehouse-device';
  }

  read(): string | null {
    return this.#ctx.cookies.get(this.#name(), { signed: false }) ?? null;
  }

  write(value: string): void {
    const secure = this.#ctx.secure;
    this.#ctx.cookies.set(this.#name(), value, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: MAX_AGE_MS, overwrite: true, signed: false });
  }
}
