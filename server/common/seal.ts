// Secrets the service must read back (TOTP secrets, signing keys, cookie secrets) are sealed with
// AES-256-GCM under the KEK, which never enters the database, and bound by associated data to their
// row: a database dump reveals nothing, and a sealed value copied to another row does not open.
import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import { z } from 'zod';

const VERSION = 'v1';

export interface Sealer {
  seal(plain: Buffer, context: string): string;
  /** The plain value, or an error when the key is not the one it was sealed with or the value was altered. */
  open(sealed: string, context: string): Buffer;
}

export class UnsealError extends Error {}

/** The KEK as ENCRYPTION_KEY and KEYS_DIR/encryption.json give it: 32 bytes, base64url. */
export const kekText = z.base64url('must be base64url').refine((k) => Buffer.from(k, 'base64url').length === 32, 'must be 32 bytes, base64url');

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the sealing key must be 32 bytes');
  // Names the key in each value, so that a wrong key is told apart from a damaged value.
  const keyId = hash('sha256', key, 'base64url').slice(0, 8);
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return [VERSION, keyId, iv.toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [version, id, iv, body] = sealed.split('.');
      if (version !== VERSION || !iv || !body) throw new UnsealError('not a sealed value');
      if (id !== keyId) throw new UnsealError('sealed with another key than the one this database was written with');
      const bytes = Buffer.from(body, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(context));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
      } catch {
        throw new UnsealError('sealed value does not open: altered, or not for this row');
      }
    },
  };
}
