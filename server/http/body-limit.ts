// 100 KB per request body, refused with 413 before any work is done. A declared length is checked
// up front. A chunked body has no length: the tRPC edge reads its bodies up to the limit itself
// (trpc.ts), and for /oidc the body is read here, up to the limit, and handed to the provider
// already parsed.
import { parse as parseQuery } from 'node:querystring';
import type { Context } from 'koa';

export const MAX_BODY_BYTES = 100 * 1024;

export function tooLarge(ctx: Context): void {
  ctx.status = 413;
  ctx.set('Connection', 'close');
  ctx.body = { error: { code: 'PAYLOAD_TOO_LARGE', message: `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB` } };
}

/**
 * The body, or undefined once it passes `limit` bytes (the rest is left unread). Rejects if the
 * client goes away mid-body. Plain stream events: an async iterator per request costs more than
 * the cheapest calls it serves.
 */
export function readCapped(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        done();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      done();
      reject(new Error('request closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Whether the request may go on; when not, the answer (413, or 400 for a body that does not
 * parse) is set. Asynchronous only for a form or JSON body to the provider (`oauth`) sent without
 * a length, which is read here; a client that goes away mid-body makes the promise reject.
 */
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
