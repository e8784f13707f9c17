import { hash } from 'node:crypto';

/** SHA-256, base64url: how every bearer value (token, code, session id, client secret) is stored. */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url');
}
