// Requests as an attacker writes them: any Host header, any X-Forwarded-* header, any request
// target. fetch() would fix up or refuse some of these; node:http sends them as given.
import { request, type IncomingHttpHeaders } from 'node:http';
import { recordSecretsIn } from './log-capture.ts';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function rawRequest(
  base: string,
  { method = 'GET', path, headers = {}, body }: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: { ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A tRPC mutation over HTTP with extra raw headers (X-Forwarded-For, Cookie, ...). */
export async function trpcMutation(base: string, path: string, input: unknown, headers: Record<string, string> = {}): Promise<RawResponse & { json: any }> {
  const res = await rawRequest(base, { method: 'POST', path: `/trpc/${path}`, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
  const json = res.body ? JSON.parse(res.body) : null;
  recordSecretsIn(input);
  recordSecretsIn(json);
  return { ...res, json };
}
