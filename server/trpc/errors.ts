// What a caller may learn of a failed procedure: a short message and typed details, never internals.
import type { TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { AppError, type AppErrorDetails } from '../errors.ts';

export interface PublicError extends AppErrorDetails {
  message: string;
}

export function publicErrorOf(error: TRPCError): PublicError {
  const cause = error.cause;
  // Only input validation is the caller's business; a ZodError elsewhere (a failed output) is internal.
  if (error.code === 'BAD_REQUEST' && cause instanceof ZodError) return { message: 'Invalid input', fieldErrors: fieldErrorsOf(cause) };
  if (cause instanceof AppError) {
    const { fieldErrors, retryAfterSeconds, reason } = cause.details;
    return { message: cause.message, ...(fieldErrors ? { fieldErrors } : {}), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}), ...(reason ? { reason } : {}) };
  }
  return { message: error.code === 'INTERNAL_SERVER_ERROR' ? 'Internal error' : error.message };
}

function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.join('.') : '_';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}
