// One error type with stable codes; services throw it, and only the edges turn a code into a status.
export const ERROR_STATUS = {
  INVALID_INPUT: { trpc: 'BAD_REQUEST', http: 400 },
  WEAK_PASSWORD: { trpc: 'BAD_REQUEST', http: 400 },
  INVALID_CREDENTIALS: { trpc: 'UNAUTHORIZED', http: 401 },
  INVALID_TOKEN: { trpc: 'UNAUTHORIZED', http: 401 },
  FORBIDDEN: { trpc: 'FORBIDDEN', http: 403 },
  EMAIL_NOT_VERIFIED: { trpc: 'FORBIDDEN', http: 403 },
  NOT_FOUND: { trpc: 'NOT_FOUND', http: 404 },
  EMAIL_TAKEN: { trpc: 'CONFLICT', http: 409 },
  CONFLICT: { trpc: 'CONFLICT', http: 409 },
  PAYLOAD_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', http: 413 },
  RATE_LIMITED: { trpc: 'TOO_MANY_REQUESTS', http: 429 },
  UNAVAILABLE: { trpc: 'SERVICE_UNAVAILABLE', http: 503 },
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface AppErrorDetails {
  fieldErrors?: Record<string, string[]>;
  retryAfterSeconds?: number;
  /** A machine-readable reason where one status has several (FORBIDDEN: EMAIL_NOT_VERIFIED). */
  reason?: 'EMAIL_NOT_VERIFIED';
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: AppErrorDetails;

  constructor(code: ErrorCode, message: string, details: AppErrorDetails = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

/** The one message for every failed sign-in, whatever the reason: it must not reveal which. */
export const INVALID_CREDENTIALS_MESSAGE = 'Invalid email or password';

/** The message of every rate-limit refusal: it does not depend on whether the account exists. */
export const RATE_LIMITED_MESSAGE = 'Too many attempts, try again later';

export const EMAIL_NOT_VERIFIED_MESSAGE = 'Confirm your email address to sign in: use the link we sent you';

export function emailNotVerified(): AppError {
  return new AppError('EMAIL_NOT_VERIFIED', EMAIL_NOT_VERIFIED_MESSAGE, { reason: 'EMAIL_NOT_VERIFIED' });
}

/** The one answer for a mailed link that is unknown, used, expired, voided or another user's. */
export function invalidLink(): AppError {
  return new AppError('INVALID_INPUT', 'This link is invalid or has expired', { fieldErrors: { token: ['This link is invalid or has expired'] } });
}

/** The OAuth error body of an AppError: only limit refusals and unwritable stores reach the provider's clients. */
export function oauthErrorOf(error: AppError): { error: string; error_description: string } {
  return { error: error.code === 'RATE_LIMITED' ? 'rate_limited' : 'temporarily_unavailable', error_description: error.message };
}
