// The hosted pages that mailed links open: verify an address, forgot and reset a password, confirm a
// new address. A page whose URL carries a token sends no referrer; its form POSTs the token back, so
// a mail scanner that fetches the link uses nothing up.
import { errorBlock, escapeHtml, layout, type Page } from '../common/page.ts';

const hidden = (name: string, value: string | undefined) => (value ? `<input type="hidden" name="${name}" value="${escapeHtml(value)}">` : '');

const continueLink = (returnTo: string | undefined, text = 'Continue signing in') => (returnTo ? `<p><a href="${escapeHtml(returnTo)}">${escapeHtml(text)}</a></p>` : '');

export function verifyEmailPage({ token }: { token: string }): Page {
  return layout(
    'Verify your email',
    `<h1>Verify your email address</h1>
<form method="post" action="/account/verify-email">
  ${hidden('token', token)}
  <button type="submit">Verify my address</button>
</form>`,
    { referrer: 'none' },
  );
}

export function confirmEmailPage({ token }: { token: string }): Page {
  return layout(
    'Confirm your new email',
    `<h1>Use this address for your account?</h1>
<p class="muted">Your account moves to the address this link was sent to.</p>
<form method="post" action="/account/confirm-email">
  ${hidden('token', token)}
  <button type="submit">Confirm the new address</button>
</form>`,
    { referrer: 'none' },
  );
}

export function forgotPasswordPage({ returnTo, email, error }: { returnTo?: string | undefined; email?: string; error?: string }): Page {
  return layout(
    'Forgot password',
    `<h1>Forgot your password?</h1>
<p class="muted">Enter your email address and we will send you a link to set a new one.</p>
${errorBlock(error)}
<form method="post" action="/account/forgot-password">
  ${hidden('return_to', returnTo)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(email ?? '')}">
  <button type="submit">Send the link</button>
</form>
${continueLink(returnTo, 'Back to sign-in')}`,
  );
}

export function resetPasswordPage({ token, returnTo, error }: { token: string; returnTo?: string | undefined; error?: string }): Page {
  return layout(
    'Set a new password',
    `<h1>Set a new password</h1>
${errorBlock(error)}
<form method="post" action="/account/reset-password">
  ${hidden('token', token)}
  ${hidden('return_to', returnTo)}
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required autofocus>
  <label for="confirm">New password, again</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
  <button type="submit">Set the password</button>
</form>`,
    { referrer: 'none' },
  );
}

export function resendVerificationPage({ email, returnTo, error }: { email?: string; returnTo?: string | undefined; error?: string }): Page {
  return layout(
    'Send the link again',
    `<h1>Send the verification link again</h1>
${errorBlock(error)}
<form method="post" action="/account/resend-verification">
  ${hidden('return_to', returnTo)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(email ?? '')}">
  <button type="submit">Send</button>
</form>`,
  );
}

/** The outcome of a form, with a way on when there is one. */
export function donePage(title: string, message: string, returnTo?: string, linkText?: string): Page {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${continueLink(returnTo, linkText)}`);
}
