// Request bodies over MAX_BODY_BYTES are refused with 413 before any work: a declared length up front,
// a chunked body as it is read (by trpc.ts for tRPC, here for the provider, which then gets it parsed).
import { parse as parseQuery } from 'node:querystring';
import type { Context } from 'koa';
import { readCapped } from '../request/body.ts';

export const MAX_BODY_BYTES = 100 * 1024;

export function tooLarge(ctx: Context): void {
  ctx.status = 413;
  ctx.set('Connection', 'close');
  ctx.body = { error: { code: 'PAYLOAD_TOO_LARGE', message: `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB` } };
}

/** Whether the request may go on, else its 413 or 400 is set; async for a chunked provider body only. */
export function bodyLimit({ oauth }: { oauth: boolean }): (ctx: Context) => boolean | Promise<boolean> {
  return (ctx) => {
    const declared = ctx.get('content-length');
    if (declared !== '') {
      if (Number(declared) > MAX_BODY_BYTES) {
        tooLarge(ctx);
        return false;
      }
      return true;
    }
    if (!oauth || ctx.get('transfer-encoding') === '') return true;
    // The provider only ever reads form and JSON bodies; anything else it never looks at.
    const type = ctx.is('application/x-www-form-urlencoded', 'application/json');
    return type ? readProviderBody(ctx, type) : true;
  };
}

async function readProviderBody(ctx: Context, type: string): Promise<boolean> {
  const body = await readCapped(ctx, MAX_BODY_BYTES);
  if (body === undefined) {
    tooLarge(ctx);
    return false;
  }
  try {
    // oidc-provider reads an already parsed body from ctx.request.body when the stream is spent.
    (ctx.request as { body?: unknown }).body = type === 'application/json' ? JSON.parse(body.toString('utf8')) : parseQuery(body.toString('utf8'));
  } catch {
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: 'failed to parse the request body' };
    return false;
  }
  return true;
}
