// The hosted pages: server-rendered, no JavaScript, every value escaped, a CSP nonce per page for its style.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

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

function layout(title: string, body: string): Page {
  const nonce = randomBytes(16).toString('base64');
  return {
    csp: `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'`,
    html: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} · Gatehouse</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main>${body}</main></body></html>`,
  };
}

const errorBlock = (error?: string) => (error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '');

export function loginPage({ action, csrf, clientName, email, error }: { action: string; csrf: string; clientName: string; email?: string; error?: string }): Page {
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(clientName)}</strong></p>
${errorBlock(error)}
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email ?? '')}"${email ? '' : ' autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${email ? ' autofocus' : ''}>
  <button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage({ action, abortAction, csrf, clientName, scopes }: { action: string; abortAction: string; csrf: string; clientName: string; scopes: string[] }): Page {
  const items = scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('');
  return layout(
    'Allow access',
    `<h1>Allow access?</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks to:</p>
<ul>${items || '<li>Confirm who you are</li>'}</ul>
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <button type="submit">Allow</button>
</form>
<form method="post" action="${escapeHtml(abortAction)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <button type="submit" class="secondary">Deny</button>
</form>`,
  );
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay signed in when you are not using it',
  api: 'Use the Gatehouse API on your behalf',
};

export function messagePage(title: string, message: string, detail?: string): Page {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${detail ? `<p class="muted">${escapeHtml(detail)}</p>` : ''}`);
}

/** `form` is oidc-provider's own hidden form (it carries the logout xsrf token). */
export function logoutPage(form: string, clientName?: string): Page {
  return layout(
    'Sign out',
    `<h1>Sign out${clientName ? ` of ${escapeHtml(clientName)}` : ''}?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}
