// The REST mirror: every procedure with .meta({ openapi }), served by trpc-to-openapi, beside the OpenAPI
// document (/openapi.json) and the reference (/docs); paths are relative to the mount point.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyTRPCRouter, TRPCError } from '@trpc/server';
import type Koa from 'koa';
import { createOpenApiNodeHttpHandler } from 'trpc-to-openapi';
import type { Logger } from '../logger.ts';
import type { Context } from '../trpc/context.ts';
import type { Meta } from '../trpc/init.ts';
import { serveDocs } from './docs.ts';
import { createOpenApiDocument, unaliased } from './document.ts';
import { restErrorOf } from './errors.ts';
import { assertNoCoercedInputs } from './guard.ts';

export interface RestApiOptions {
  router: AnyTRPCRouter;
  baseUrl: string;
  maxBodySize: number;
  createContext(ctx: Koa.Context): Context;
  log: Logger;
}

/** What one request's handling needs across trpc-to-openapi's callbacks, which see only `req`. */
interface Exchange {
  requestId: unknown;
  context: Context;
  failure?: TRPCError;
}

export function createRestApi({ router, baseUrl, maxBodySize, createContext, log }: RestApiOptions): Koa.Middleware {
  assertNoCoercedInputs(router);
  const document = JSON.stringify(createOpenApiDocument(router, { baseUrl }));
  const exchanges = new WeakMap<IncomingMessage, Exchange>();
  const created = (path: string | undefined) => Boolean(path && (router._def.procedures[path] as { _def: { meta?: Meta } } | undefined)?._def.meta?.created);

  const handle = createOpenApiNodeHttpHandler({
    router,
    maxBodySize,
    createContext: ({ req }) => exchanges.get(req)!.context,
    responseMeta: ({ paths, errors }) => {
      // Answers carry tokens and personal data: no cache may keep them.
      const headers = { 'Cache-Control': 'no-store' };
      const [error] = errors;
      if (!error) return { status: created(paths?.[0]) ? 201 : 200, headers };
      const rest = restErrorOf(error);
      return { status: rest.status, headers: { ...headers, ...rest.headers } };
    },
    onError: ({ error, req }) => {
      const exchange = exchanges.get(req);
      if (exchange) exchange.failure = error;
      if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, reqId: exchange?.requestId }, 'rest error');
    },
  });

  return async (ctx) => {
    if (ctx.path === '/openapi.json' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.type = 'application/json; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = document;
      return;
    }
    if (serveDocs(ctx)) return;
    ctx.path = unaliased(ctx.method, ctx.path);
    normalizeContentType(ctx.req);
    const exchange: Exchange = { requestId: ctx.state.requestId, context: createContext(ctx) };
    exchanges.set(ctx.req, exchange);
    // trpc-to-openapi writes the response itself; Koa presets 404.
    ctx.respond = false;
    ctx.res.statusCode = 200;
    replaceErrorBodies(ctx.res, exchange);
    await handle(ctx.req, ctx.res);
  };
}

/** trpc-to-openapi reads only a bare application/json, though JSON is UTF-8 whatever its charset, and
 *  refuses a bodiless POST without a content type: both common in clients of other languages. */
function normalizeContentType(req: IncomingMessage): void {
  if (req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD') return;
  const type = req.headers['content-type'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (type === undefined ? !hasBody : type.split(';')[0]!.trim().toLowerCase() === 'application/json') {
    req.headers['content-type'] = 'application/json';
  }
}

/** trpc-to-openapi writes its own error body and has no hook to shape it: replaced on its way out, until it has one. */
function replaceErrorBodies(res: ServerResponse, exchange: Exchange): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => end(exchange.failure ? JSON.stringify(restErrorOf(exchange.failure).body) : chunk)) as ServerResponse['end'];
}
