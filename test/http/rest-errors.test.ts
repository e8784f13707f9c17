// The REST error path for failures no real procedure can be made to show on demand: a rate limit
// (built elsewhere; it surfaces as AppError RATE_LIMITED), a crash, an output that breaks its own
// schema. Stub procedures on the real root, through the real REST handler, over HTTP.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { TRPCError } from '@trpc/server';
import Koa from 'koa';
import mount from 'koa-mount';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import { AppError } from '../../server/errors.ts';
import { createLogger } from '../../server/logger.ts';
import { createRestApi } from '../../server/rest/handler.ts';
import { createContext } from '../../server/trpc/context.ts';
import { restErrorOf } from '../../server/rest/errors.ts';
import { assertNoCoercedInputs } from '../../server/rest/guard.ts';
import { publicProcedure, router } from '../../server/trpc/init.ts';
import { boolOrText } from '../../server/common/inputs.ts';
import { successView } from '../../server/common/outputs.ts';
import { restClient, type RestClient } from '../helpers/openapi.ts';
import { TEST_META } from '../helpers/server.ts';

const stubs = router({
  limited: publicProcedure
    .meta({ openapi: { method: 'POST', path: '/limited', protect: false, errorResponses: [429] } })
    .output(successView)
    .mutation(() => {
      throw new AppError('RATE_LIMITED', 'Too many attempts, try again later', { retryAfterSeconds: 41.2 });
    }),
  crashes: publicProcedure
    .meta({ openapi: { method: 'GET', path: '/crashes', protect: false } })
    .output(successView)
    .query(() => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:5432 at /srv/gatehouse/db/client.ts');
    }),
  breaksItsOutput: publicProcedure
    .meta({ openapi: { method: 'GET', path: '/breaks-its-output', protect: false } })
    .output(successView)
    .query(() => ({ success: 'yes' }) as never),
});

let server: Server;
let api: RestClient;
const logs: string[] = [];
beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = new Koa();
  app.use(
    mount(
      '/api',
      createRestApi({
        router: stubs,
        baseUrl: `${url}/api`,
        maxBodySize: 1024,
        log: createLogger('info', sink),
        // The stubs read nothing of the context.
        createContext: () => createContext(undefined as never, { meta: TEST_META }),
      }),
    ),
  );
  server.on('request', app.callback());
  api = await restClient(url);
});
afterAll(() => new Promise((resolve) => server?.close(resolve)));

describe('REST errors', () => {
  it('answers a rate limit with 429 and Retry-After in whole seconds', async () => {
    const answer = await api.call('POST', '/limited');
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toBe('42');
    expect(answer.body).toEqual({ error: { code: 'TOO_MANY_REQUESTS', message: 'Too many attempts, try again later' } });
  });

  it('answers a crash and a broken output with 500 and nothing of the cause, which is logged', async () => {
    for (const path of ['/crashes', '/breaks-its-output']) {
      const answer = await api.call('GET', path);
      expect(answer.status).toBe(500);
      expect(answer.body).toEqual({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal error' } });
    }
    expect(logs.join('\n')).toContain('ECONNREFUSED');
  });
});

/** The error zod throws (an Error, unlike the one safeParse returns), as tRPC meets it. */
function zodErrorOf(schema: z.ZodType, value: unknown): ZodError {
  try {
    schema.parse(value);
  } catch (error) {
    if (error instanceof ZodError) return error;
  }
  throw new Error('expected a ZodError');
}

describe('restErrorOf', () => {
  it('maps codes to tRPC\'s statuses, keeps field errors of input only, and rounds Retry-After up', () => {
    const invalid = new TRPCError({ code: 'BAD_REQUEST', cause: zodErrorOf(z.object({ email: z.email('Not a valid email address') }), { email: 'x' }) });
    expect(restErrorOf(invalid)).toEqual({ status: 400, headers: {}, body: { error: { code: 'BAD_REQUEST', message: 'Invalid input', fieldErrors: { email: ['Not a valid email address'] } } } });

    const limited = new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Slow down', cause: new AppError('RATE_LIMITED', 'Slow down', { retryAfterSeconds: 0.2 }) });
    expect(restErrorOf(limited)).toMatchObject({ status: 429, headers: { 'Retry-After': '1' } });

    const conflict = new TRPCError({ code: 'CONFLICT', message: 'Taken', cause: new AppError('EMAIL_TAKEN', 'Taken', { fieldErrors: { email: ['Already registered'] } }) });
    expect(restErrorOf(conflict)).toEqual({ status: 409, headers: {}, body: { error: { code: 'CONFLICT', message: 'Taken', fieldErrors: { email: ['Already registered'] } } } });

    const outputCheck = new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Output validation failed', cause: zodErrorOf(z.object({ a: z.string() }), {}) });
    expect(restErrorOf(outputCheck)).toEqual({ status: 500, headers: {}, body: { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal error' } } });
    expect(restErrorOf(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' })).status).toBe(413);
  });
});

describe('the coercion guard', () => {
  const withFilter = (active: z.ZodType) =>
    router({
      list: publicProcedure
        .meta({ openapi: { method: 'GET', path: '/list' } })
        .input(z.strictObject({ active }).optional())
        .output(successView)
        .query(() => ({ success: true as const })),
    });

  it('refuses a bare boolean or number in a REST input, which trpc-to-openapi would coerce in place', () => {
    expect(() => assertNoCoercedInputs(withFilter(z.boolean().optional()))).toThrow('REST input list.active is a bare boolean');
    expect(() => assertNoCoercedInputs(withFilter(z.array(z.number())))).toThrow('REST input list.active is a bare number');
    expect(() => assertNoCoercedInputs(withFilter(boolOrText.optional()))).not.toThrow();
  });
});
