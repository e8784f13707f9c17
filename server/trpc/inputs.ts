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

// Booleans and integers also arrive as text on REST (a query string has nothing else), so these
// accept `true`/`false` and digits as well. They must be the only booleans and numbers of inputs:
// for a bare z.boolean() or z.number(), trpc-to-openapi switches zod's `coerce` flag on, in place,
// on the schema tRPC shares, and coercion is JavaScript truthiness ("false" → true, null → false).
// Behind z.preprocess the flag is out of its reach; server/rest/guard.ts refuses to start otherwise.
const fromText = (value: unknown) => (value === 'true' ? true : value === 'false' ? false : value);
export const flag = z.preprocess<unknown, z.ZodBoolean, boolean>(fromText, z.boolean());

export const integer = (min: number, max: number) =>
  z.preprocess<unknown, z.ZodInt, number>((value) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value), z.int().min(min).max(max));
