// The frame of every hosted page: server-rendered, no JavaScript, every value escaped, a CSP nonce
// per page for its one style block, never framed nor cached.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

/** Text as HTML: safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Page {
  html: string;
  csp: string;
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: .75rem; box-shadow: 0 1px 3px #0002; }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; border: 1px solid #c5cad3; border-radius: .4rem; font: inherit; }
  button { margin-top: 1.25rem; width: 100%; padding: .65rem; border: 0; border-radius: .4rem; background: #2456d3; color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button.secondary { background: #e4e7ec; color: #1d2330; }
  .error { background: #fdecec; color: #8a1c1c; padding: .6rem .75rem; border-radius: .4rem; }
  .muted { color: #5b6475; font-size: .9rem; }
  ul { padding-left: 1.2rem; }
  .qr svg { display: block; width: 12rem; height: 12rem; margin: 1rem auto; }
`;

/** Sends a page with its CSP, never framed nor cached; without `status`, the status already set stays. */
export function sendPage(ctx: Context, page: Page, status?: number): void {
  if (status !== undefined) ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', page.csp);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cache-Control', 'no-store');
  ctx.body = page.html;
}

/** A page in the hosted pages' frame. `referrer: 'none'` for pages whose URL carries a token. */
export function layout(title: string, body: string, { referrer = 'same-origin' }: { referrer?: 'same-origin' | 'none' } = {}): Page {
  const nonce = randomBytes(16).toString('base64');
  return {
    csp: `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'`,
    html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${referrer === 'none' ? 'no-referrer' : 'same-origin'}">
<title>${escapeHtml(title)} · Gatehouse</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main>${body}</main></body></html>`,
  };
}

export const errorBlock = (error?: string) => (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '');

export function messagePage(title: string, message: string, detail?: string): Page {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${detail ? `<p class="muted">${escapeHtml(detail)}</p>` : ''}`);
}
