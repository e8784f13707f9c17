// The REST mirror's OpenAPI document, from the procedures' .meta({ openapi }), made to say what the
// handler does: 201 where a procedure creates, one error shape, Retry-After on 429, the aliases.
import { STATUS_CODES } from 'node:http';
import type { AnyTRPCRouter } from '@trpc/server';
import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import type { Meta } from '../trpc/init.ts';
import { restErrorBody } from './errors.ts';

type PathItem = NonNullable<OpenAPIObject['paths']>[string];
type Operation = NonNullable<PathItem['post']>;
type Responses = NonNullable<Operation['responses']>;
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** More paths for a route: registration is also "signup". */
export const ALIASES = [{ method: 'POST', path: '/auth/signup', of: '/auth/register' }] as const;

/** More paths for every route under a prefix: the admin user routes also answer under /admin/users. */
export const PREFIX_ALIASES = [{ prefix: '/admin/users', of: '/users' }] as const;

/** The path a request's path stands for, when it is an alias. */
export function unaliased(method: string, path: string): string {
  const trimmed = path.replace(/\/$/, '');
  const alias = ALIASES.find((a) => a.method === method && a.path === trimmed);
  if (alias) return alias.of;
  for (const { prefix, of } of PREFIX_ALIASES) {
    if (trimmed === prefix || trimmed.startsWith(`${prefix}/`)) return of + trimmed.slice(prefix.length);
  }
  return path;
}

const TAGS = ['Sign-in', 'Account', 'Users', 'Roles', 'Clients', 'Audit'];

const DESCRIPTION = `The tRPC procedures of Gatehouse as plain JSON over HTTP, for clients in any language.

Send the access token from \`/auth/login\`, \`/auth/register\` or \`/auth/refresh\` as \`Authorization: Bearer <token>\`
(never in a query string). Every error is \`{ "error": { "code", "message", "fieldErrors"? } }\`, where \`code\` is the
tRPC error code and the HTTP status follows it; a 429 carries \`Retry-After\`. Request bodies are limited to 100 KB.`;

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

export function createOpenApiDocument(router: AnyTRPCRouter, { baseUrl }: { baseUrl: string }): OpenAPIObject {
  const document = generateOpenApiDocument(router, {
    title: 'Gatehouse REST API',
    version: '1',
    description: DESCRIPTION,
    baseUrl,
    tags: TAGS,
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token, in the Authorization header only' },
    },
    defs: { Error: restErrorBody },
  });
  const paths = document.paths ?? {};
  for (const procedure of Object.values(router._def.procedures) as { _def: { meta?: Meta } }[]) {
    const route = procedure._def.meta?.openapi;
    const operation = route && paths[route.path]?.[route.method.toLowerCase() as Method];
    if (operation) operation.responses = settle(operation.responses ?? {}, procedure._def.meta?.created === true);
  }
  for (const alias of ALIASES) {
    const method = alias.method.toLowerCase() as Method;
    const operation = paths[alias.of]?.[method];
    if (operation) {
      paths[alias.path] = { [method]: { ...operation, operationId: alias.path.slice(1).replaceAll('/', '-'), description: `The same as ${alias.method} ${alias.of}.` } };
    }
  }
  for (const { prefix, of } of PREFIX_ALIASES) {
    for (const [path, item] of Object.entries(paths)) {
      if (path !== of && !path.startsWith(`${of}/`)) continue;
      const aliased = Object.entries(item).map(([method, operation]) => [method, { ...operation, operationId: `${(operation as Operation).operationId}-alias` }]);
      paths[prefix + path.slice(of.length)] = Object.fromEntries(aliased);
    }
  }
  // trpc-to-openapi's own error schemas, replaced above by Error.
  const schemas = document.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) if (name.startsWith('error.')) delete schemas[name];
  return document;
}

function settle(responses: Responses, created: boolean): Responses {
  const settled: Responses = {};
  for (const [status, response] of Object.entries(responses)) {
    if (status === '200') settled[created ? '201' : '200'] = { ...response, description: created ? 'Created' : 'OK' };
    else settled[status] = errorResponse(Number(status));
  }
  settled.default = { description: 'Any other error, in the same shape', content: errorContent };
  return settled;
}

function errorResponse(status: number) {
  const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } } as const;
  return { description: STATUS_CODES[status] ?? 'Error', ...(status === 429 ? { headers: retryAfter } : {}), content: errorContent };
}
