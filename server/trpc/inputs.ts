// Shared zod pieces for procedure inputs. Objects are strict: unknown keys are refused, which is
// what makes mass assignment impossible.
import { z } from 'zod';
import { MAX_PASSWORD_BYTES, passwordTooLong } from '../services/passwords.ts';

export const email = z.string().trim().toLowerCase().max(254, 'Too long').pipe(z.email('Not a valid email address'));

/** Any password as typed: checked against bcrypt's limit, never truncated. */
export const password = z
  .string()
  .min(1, 'Required')
  .max(1024, 'Too long')
  .refine((value) => !passwordTooLong(value), `Must be at most ${MAX_PASSWORD_BYTES} bytes long`);

export const name = z.string().trim().min(1, 'Must not be empty').max(200, 'Too long');

export const token = z.string().min(1, 'Required').max(8192, 'Too long');

/** A session id as listed by me.sessions.list: the base64url SHA-256 of its grant id. */
export const sessionId = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'Not a session id');

export const uuid = z.uuid('Not a valid id');
