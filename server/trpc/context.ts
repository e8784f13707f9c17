import type { Context as KoaContext } from 'koa';
import type { Deps } from '../deps.ts';
import { KoaDeviceCookie } from '../request/device-cookie.ts';
import { requestMeta } from '../request/meta.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { NO_DEVICE_COOKIE, type DeviceCookie } from '../services/login-guard.ts';

export interface Context {
  deps: Deps;
  meta: RequestMeta;
  /** The raw Authorization header, read only by authedProcedure. */
  authorization: string | null;
  /** Where the client keeps its device tokens for the login limit. */
  device: DeviceCookie;
  /** Told the user id once authedProcedure has one (the access log names the user). */
  onAuthenticated?: ((userId: string) => void) | undefined;
}

/** The inner factory: tests build contexts with it directly, without HTTP. */
export function createContext(
  deps: Deps,
  {
    meta,
    authorization = null,
    device = NO_DEVICE_COOKIE,
    onAuthenticated,
  }: { meta: RequestMeta; authorization?: string | null; device?: DeviceCookie; onAuthenticated?: (userId: string) => void },
): Context {
  return { deps, meta, authorization, device, onAuthenticated };
}

/** A call's context over HTTP. Only the Authorization header carries the token: never a URL or a cookie. */
export function createHttpContext(deps: Deps, ctx: KoaContext): Context {
  return createContext(deps, {
    meta: requestMeta(ctx),
    authorization: ctx.get('authorization') || null,
    device: new KoaDeviceCookie(ctx),
    onAuthenticated: (userId) => {
      ctx.state.userId = userId;
    },
  });
}
