// Zod pieces for inputs at every edge. Objects built from them are strict: no mass assignment.
import { z } from 'zod';

/** bcrypt reads at most 72 bytes; anything longer is refused, never silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

/** The form a password is measured, checked, compared and hashed in. */
export const normalizePassword = (password: string) => password.normalize('NFKC');

export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(normalizePassword(password), 'utf8') > MAX_PASSWORD_BYTES;
}

export const email = z.string().trim().toLowerCase().max(254, 'Too long').pipe(z.email('Not a valid email address'));

export const password = z
  .string()
  .min(1, 'Required')
  .max(1024, 'Too long')
  .refine((value) => !passwordTooLong(value), `Must be at most ${MAX_PASSWORD_BYTES} bytes long`);

export const name = z.string().trim().min(1, 'Must not be empty').max(200, 'Too long');

/** An API resource's identifier (RFC 8707): the audience of the token asked for. */
export const resource = z
  .url('Must be an absolute URL')
  .max(2000, 'Too long')
  .meta({ description: "The API resource to get the access token for; Gatehouse's own API by default" });

export const token = z.string().min(1, 'Required').max(8192, 'Too long');

/** A session id as listed by me.sessions.list: the base64url SHA-256 of its grant id. */
/** A TOTP code: six digits (spaces an app shows between groups are dropped). */
export const totpCode = z
  .string()
  .max(16, 'Too long')
  .transform((code) => code.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'Must be the 6 digits your authenticator app shows'));

/** Recovery codes are compared lower-case, without spaces or the dash. */
export const normalizeRecoveryCode = (code: string): string => code.trim().toLowerCase().replace(/[\s-]/g, '');

/** A TOTP code is all digits; a recovery code never is. */
export const isTotpCode = (code: string): boolean => /^\d+$/.test(code);

/** A recovery code, as shown (xxxxx-xxxxx) or without the dash, in either case. */
export const recoveryCode = z
  .string()
  .max(32, 'Too long')
  .transform(normalizeRecoveryCode)
  .pipe(z.string().regex(/^[a-z2-7]{10}$/, 'Must be a recovery code such as abcde-23456'));

/** A TOTP code or a recovery code, told apart by their shapes. */
export const anyMfaCode = z
  .string()
  .max(32, 'Too long')
  .transform((code) => code.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^(\d{6}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, 'Must be the 6 digits of your authenticator app or a recovery code'));

export const sessionId = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'Not a session id');

/** A user id as PostgreSQL writes a uuid: checked before a lookup, since a malformed one makes the query fail. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const uuid = z.uuid('Not a valid id');

// Booleans and integers that may arrive as text on REST (a query string has nothing else). Inputs use
// only these: trpc-to-openapi coerces a bare z.boolean() or z.number() by truthiness ("false" → true).
const fromText = (value: unknown) => (value === 'true' ? true : value === 'false' ? false : value);
export const boolOrText = z.preprocess<unknown, z.ZodBoolean, boolean>(fromText, z.boolean());

export const intOrText = (min: number, max: number) =>
  z.preprocess<unknown, z.ZodInt, number>((value) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value), z.int().min(min).max(max));
