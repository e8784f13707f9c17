// Koa. Structural types, so the package needs neither koa nor its types.
import { refusalBody, type Guard } from './guard.js';

export interface KoaContextLike {
  get(field: string): string;
  /** Set by a router such as @koa/router. */
  params?: Readonly<Record<string, string | undefined>>;
  state: Record<string, unknown>;
  status: number;
  body: unknown;
  type: string;
  set(field: string, value: string): void;
}

/** Koa middleware: puts the claims in `ctx.state.auth` or answers 401/403. */
export function toKoa(guard: Guard) {
  return async (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> => {
    const result = await guard({ authorization: ctx.get('authorization') || undefined, params: ctx.params });
    if (!result.ok) {
      const { refusal } = result;
      ctx.status = refusal.status;
      if (refusal.challenge) ctx.set('WWW-Authenticate', refusal.challenge);
      ctx.type = 'application/json';
      ctx.body = refusalBody(refusal);
      return;
    }
    ctx.state.auth = result.claims;
    await next();
  };
}
