// The REST mirror, loaded at its first request: trpc-to-openapi, the OpenAPI document and the body
// parsers it brings are not needed to start, and most requests are not REST ones.
import type Koa from 'koa';
import type { RestApiOptions } from './handler.ts';

export function lazyRestApi(options: RestApiOptions): Koa.Middleware {
  let handler: Promise<Koa.Middleware> | undefined;
  return async (ctx, next) => {
    handler ??= import('./handler.ts').then(({ createRestApi }) => createRestApi(options));
    return (await handler)(ctx, next);
  };
}
