// Reading a request body up to a limit, for the edges that read bodies themselves.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';

const FORM_LIMIT = 16 * 1024;

/** A hosted page's urlencoded form, at most 16 KB. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new AppError('INVALID_INPUT', 'Expected a form submission');
  const body = await readCapped(ctx, FORM_LIMIT);
  if (body === undefined) throw new AppError('PAYLOAD_TOO_LARGE', 'Form too large');
  return new URLSearchParams(body.toString('utf8'));
}

/** The body, or undefined past `limit` bytes (the rest left unread); rejects if the client goes away. */
export function readCapped(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const req = ctx.req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        done();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      done();
      reject(new Error('request closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
