// The tRPC endpoint: plain JSON, the body capped, batches bounded, Retry-After on 429. Our own adapter
// over resolveResponse, which tRPC documents for adapters: its node-http adapter streams every body
// through web streams, which the bearer benchmarks' targets cannot afford, and sends no Content-Length.
// Go back to it if the me.get and auth.verify scenarios keep their targets with it.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createURL } from '@trpc/server/adapters/node-http';
import { resolveResponse } from '@trpc/server/http';
import type { Context, Middleware } from 'koa';
import type { Deps } from '../deps.ts';
import { AppError } from '../errors.ts';
import { createHttpContext } from '../trpc/context.ts';
import { appRouter } from '../trpc/router.ts';
import { readCapped } from '../request/body.ts';
import { MAX_BODY_BYTES, tooLarge } from './body-limit.ts';

const MAX_BATCH_CALLS = 10;

function retryAfterOf(errors: readonly { cause?: unknown }[]): number | undefined {
  for (const error of errors) {
    if (error.cause instanceof AppError && error.cause.details.retryAfterSeconds !== undefined) return error.cause.details.retryAfterSeconds;
  }
  return undefined;
}

// Appended to tRPC's own Vary, it keeps the Origin that CORS set. Built once: tRPC only reads it.
const VARY_ORIGIN = { headers: new Headers([['vary', 'Origin']]) };

/** A Request whose body is read already: tRPC reads a JSON body with text(), answered from the string. */
class ReadRequest extends Request {
  override readonly text: () => Promise<string>;

  constructor(url: URL, init: RequestInit, text: string) {
    super(url, init);
    this.text = () => Promise.resolve(text);
  }
}

function isJson(contentType: string): boolean {
  return contentType.toLowerCase().split(';', 1)[0]!.trim() === 'application/json';
}

function toRequest(ctx: Context, body: string | undefined, signal: AbortSignal): Request | null {
  let url: URL;
  try {
    // tRPC's own: from the Host header (localhost without one); a URL it cannot parse is a 400.
    url = createURL(ctx.req);
  } catch {
    return null;
  }
  // tRPC's createHeaders, which it does not export.
  const headers = new Headers();
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.append(name, value);
  }
  const init: RequestInit = { method: ctx.method, headers, signal };
  if (body === undefined) return new Request(url, init);
  // Any other media type goes to tRPC as a real body, so that it answers as it would (415, validation).
  if (isJson(ctx.get('content-type'))) return new ReadRequest(url, init, body);
  return new Request(url, { ...init, body });
}

/** Streamed answers (JSON lines, marked by Transfer-Encoding; server-sent events) are piped. */
function isStreamed(response: Response): boolean {
  return response.headers.has('transfer-encoding') || (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
}

async function writeResponse(ctx: Context, response: Response): Promise<void> {
  const res = ctx.res;
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  if (isStreamed(response)) {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), res).catch(() => res.destroy());
    return;
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  res.setHeader('content-length', bytes.length);
  res.end(bytes);
}

export function trpcEndpoint(deps: Deps, prefix = '/trpc'): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith(`${prefix}/`)) return next();
    let body: string | undefined;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      const read = await readCapped(ctx, MAX_BODY_BYTES).catch(() => null);
      if (read === undefined) return tooLarge(ctx);
      if (read === null) {
        // The client went away mid-body: no one is left to answer.
        ctx.status = 400;
        return;
      }
      body = read.toString('utf8');
    }
    const aborted = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableEnded) aborted.abort();
    });
    const request = toRequest(ctx, body, aborted.signal);
    if (!request) {
      ctx.status = 400;
      ctx.body = { error: { code: 'BAD_REQUEST', message: 'Invalid request URL' } };
      return;
    }
    const response = await resolveResponse({
      router: appRouter,
      req: request,
      maxBatchSize: MAX_BATCH_CALLS,
      error: null,
      path: ctx.path.slice(prefix.length + 1),
      createContext: async () => createHttpContext(deps, ctx),
      responseMeta: ({ errors }) => {
        const retryAfter = retryAfterOf(errors);
        if (retryAfter === undefined) return VARY_ORIGIN;
        return { headers: new Headers([['vary', 'Origin'], ['retry-after', String(retryAfter)]]) };
      },
      onError: ({ error }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') deps.log.error({ err: error.cause ?? error, reqId: ctx.state.requestId }, 'trpc error');
      },
    });
    // tRPC has answered: the response goes straight to Node. It carries tokens: never cached.
    ctx.respond = false;
    ctx.set('Cache-Control', 'no-store');
    await writeResponse(ctx, response);
  };
}
