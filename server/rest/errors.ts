// Every REST error has one shape, and the status tRPC itself would answer with.
import type { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';
import { publicErrorOf } from '../trpc/errors.ts';

const codes = Object.keys(TRPC_ERROR_CODES_BY_KEY) as [TRPC_ERROR_CODE_KEY, ...TRPC_ERROR_CODE_KEY[]];

export const restErrorBody = z
  .object({
    error: z.object({
      code: z.enum(codes).meta({ description: 'The tRPC error code; the HTTP status follows it' }),
      message: z.string().meta({ description: 'Short and human; never internals' }),
      fieldErrors: z
        .record(z.string(), z.array(z.string()))
        .optional()
        .meta({ description: 'For invalid input: the reasons, by field (`_` for the input as a whole)' }),
      reason: z.enum(['EMAIL_NOT_VERIFIED']).optional().meta({ description: 'Why a FORBIDDEN was answered, where a client can act on it' }),
    }),
  })
  .meta({ id: 'Error' });
export type RestErrorBody = z.infer<typeof restErrorBody>;

export interface RestError {
  status: number;
  headers: Record<string, string>;
  body: RestErrorBody;
}

export function restErrorOf(error: TRPCError): RestError {
  const { message, fieldErrors, retryAfterSeconds, reason } = publicErrorOf(error);
  const headers: Record<string, string> = {};
  // Whatever refused the request for now (a rate limit) said when to come back.
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return {
    status: getHTTPStatusCodeFromError(error),
    headers,
    body: { error: { code: error.code, message, ...(fieldErrors ? { fieldErrors } : {}), ...(reason ? { reason } : {}) } },
  };
}
