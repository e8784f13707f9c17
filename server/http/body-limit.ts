// 100 KB per request body, refused with 413 before any work is done. A declared length is checked
// up front. A chunked body has no length: tRPC caps its own reads (maxBodySize), and for /oidc the
// body is read here, up to the limit, and handed to the provider already parsed.
import { parse as parseQuery } from 'node:querystring';
import type { Context, Middleware } from 'koa';

export const MAX_BODY_BYTES = 100 * 1024;

function tooLarge(ctx: Context): void {
  ctx.status = 413;
  ctx.set('Connection', 'close');
  ctx.body = { error: { code: 'PAYLOAD_TOO_LARGE', message: `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB` } };
}

/** The body, or undefined once it passes `limit` bytes (the rest is left unread). */
async function readCapped(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false })) {
    received += (chunk as Buffer).length;
    if (received > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, received);
}

export function bodyLimit({ providerPrefix }: { providerPrefix: string }): Middleware {
  return async (ctx, next) => {
    const declared = ctx.get('content-length');
    if (declared !== '') {
      if (Number(declared) > MAX_BODY_BYTES) return tooLarge(ctx);
      return next();
    }
    if (!ctx.path.startsWith(`${providerPrefix}/`) || ctx.get('transfer-encoding') === '') return next();

    // The provider only ever reads form and JSON bodies; anything else it never looks at.
    const type = ctx.is('application/x-www-form-urlencoded', 'application/json');
    if (!type) return next();
    const body = await readCapped(ctx, MAX_BODY_BYTES);
    if (body === undefined) return tooLarge(ctx);
    try {
      // oidc-provider reads an already parsed body from ctx.request.body when the stream is spent.
      (ctx.request as { body?: unknown }).body = type === 'application/json' ? JSON.parse(body.toString('utf8')) : parseQuery(body.toString('utf8'));
    } catch {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'failed to parse the request body' };
      return;
    }
    await next();
  };
}
