// Keyset cursors for newest-first pages: the (created_at, id) of a page's last row, opaque to clients.
// `at` keeps its column's full precision, so no row written in the same millisecond is skipped.
import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { UUID } from './inputs.ts';

export interface Cursor {
  at: string;
  id: string;
}

const AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,6}Z$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

export const cursorInput = z
  .string()
  .max(200)
  .transform((value, ctx): Cursor => {
    const [at = '', id = '', ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
    if (rest.length > 0 || !AT.test(at) || !UUID.test(id)) {
      ctx.addIssue({ code: 'custom', message: 'Not a cursor from a previous page' });
      return z.NEVER;
    }
    return { at, id };
  });

export function after(createdAt: AnyColumn, id: AnyColumn, cursor: Cursor): SQL {
  return sql`(${createdAt}, ${id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`;
}
