// The Koa edge of the error type: a JSON body with a code and a short message, never a stack.
// AppError codes become their status here (with Retry-After for RATE_LIMITED); anything else
// that is not an HTTP error of its own is a 500 with a generic message.
import type { Context } from 'koa';
import { AppError, ERROR_STATUS, oauthErrorOf } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** Answers a request whose handling threw. */
export function errorResponses({ log, oauth }: { log: Logger; oauth: boolean }): (ctx: Context, error: unknown) => void {
  return (ctx, error) => {
    if (error instanceof AppError) {
      const { trpc, http } = ERROR_STATUS[error.code];
      ctx.status = http;
      if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
      // The provider's clients read OAuth's error shape; everyone else reads ours.
      ctx.body = oauth ? oauthErrorOf(error) : { error: { code: trpc, message: error.message, ...error.details } };
      return;
    }
    const err = error as { status?: number; expose?: boolean; message?: string };
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) log.error({ err: error, reqId: ctx.state.requestId }, 'unhandled error');
    ctx.status = status;
    ctx.body = { error: { code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST', message: status < 500 && err.expose ? err.message : 'Internal error' } };
  };
}
