// The hosted pages of the authorization code flow: login, consent, logout.
import { errorBlock, escapeHtml, layout, type Page } from '../common/page.ts';

export interface LoginPageProps {
  action: string;
  csrf: string;
  clientName: string;
  /** The interaction's own path, to come back to from the forgot-password page. */
  returnTo: string;
  signUpHref: string;
  email?: string;
  error?: string;
  /** Offers to mail the verification link again (EMAIL_VERIFICATION=required). */
  resend?: boolean;
}

export function loginPage({ action, csrf, clientName, returnTo, signUpHref, email, error, resend }: LoginPageProps): Page {
  const resendForm = resend
    ? `<form method="post" action="/account/resend-verification">
  <input type="hidden" name="email" value="${escapeHtml(email ?? '')}">
  <input type="hidden" name="return_to" value="${escapeHtml(returnTo)}">
  <button type="submit" class="secondary">Send the verification link again</button>
</form>`
    : '';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(clientName)}</strong></p>
${errorBlock(error)}
${resendForm}
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email ?? '')}"${email ? '' : ' autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${email ? ' autofocus' : ''}>
  <button type="submit">Sign in</button>
</form>
<p class="muted"><a href="/account/forgot-password?return_to=${encodeURIComponent(returnTo)}">Forgot password?</a></p>
<p class="muted">No account yet? <a href="${escapeHtml(signUpHref)}">Create account</a></p>`,
  );
}

export interface SignUpPageProps {
  action: string;
  csrf: string;
  clientName: string;
  signInHref: string;
  email?: string;
  name?: string;
  error?: string;
}

export function signUpPage({ action, csrf, clientName, signInHref, email, name, error }: SignUpPageProps): Page {
  return layout(
    'Create account',
    `<h1>Create your account</h1>
<p class="muted">to continue to <strong>${escapeHtml(clientName)}</strong></p>
${errorBlock(error)}
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <label for="name">Name <span class="muted">(optional)</span></label>
  <input id="name" name="name" autocomplete="name" value="${escapeHtml(name ?? '')}">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required>
  <button type="submit">Create account</button>
</form>
<p class="muted">Already have an account? <a href="${escapeHtml(signInHref)}">Sign in</a></p>`,
  );
}

export interface ConsentPageProps {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  /** OpenID Connect scopes and `api`. */
  scopes: string[];
  /** Permissions asked for as scopes, with the words their resource gave them. */
  permissions?: { name: string; description: string | null }[];
}

export function consentPage({ action, abortAction, csrf, clientName, scopes, permissions = [] }: ConsentPageProps): Page {
  const items = [
    ...scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`),
    ...permissions.map((p) => `<li>${escapeHtml(p.description ?? p.name)} <code>${escapeHtml(p.name)}</code></li>`),
  ].join('');
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

export interface MfaPageProps {
  action: string;
  csrf: string;
  clientName: string;
  /** The challenge of this sign-in, sent back with the code. */
  mfaToken: string;
  startOverHref: string;
  recoveryCodes: boolean;
  error?: string;
}

/** The second step of a sign-in with a factor: the app's code, or a recovery code in the same field. */
export function mfaPage({ action, csrf, clientName, mfaToken, startOverHref, recoveryCodes, error }: MfaPageProps): Page {
  return layout(
    'Two-step verification',
    `<h1>Two-step verification</h1>
<p class="muted">to continue to <strong>${escapeHtml(clientName)}</strong></p>
${errorBlock(error)}
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <input type="hidden" name="mfa_token" value="${escapeHtml(mfaToken)}">
  <label for="code">Code from your authenticator app</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus maxlength="32">
  <button type="submit">Verify</button>
</form>
${recoveryCodes ? '<p class="muted">No access to your app? Enter one of your recovery codes instead.</p>' : ''}
<p class="muted"><a href="${escapeHtml(startOverHref)}">Start over</a></p>`,
  );
}

export interface EnrollPageProps {
  action: string;
  csrf: string;
  clientName: string;
  enrollmentToken: string;
  secret: string;
  /** The QR code as the qrcode library draws it: markup of its own making, with no text of ours. */
  qrSvg: string;
  error?: string;
}

/** Enrolment that MFA_REQUIRED_ROLES asks for before the sign-in goes on. */
export function enrollPage({ action, csrf, clientName, enrollmentToken, secret, qrSvg, error }: EnrollPageProps): Page {
  return layout(
    'Set up two-step verification',
    `<h1>Set up two-step verification</h1>
<p class="muted"><strong>${escapeHtml(clientName)}</strong> needs a second factor on your account. Scan the code with an authenticator app, or type the key.</p>
${errorBlock(error)}
<div class="qr">${qrSvg}</div>
<p class="muted">Key: <code id="secret">${escapeHtml(secret)}</code></p>
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <input type="hidden" name="enrollment_token" value="${escapeHtml(enrollmentToken)}">
  <label for="code">Code from your authenticator app</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus maxlength="16">
  <button type="submit">Turn on</button>
</form>`,
  );
}

export interface RecoveryCodesPageProps {
  action: string;
  csrf: string;
  enrollmentToken: string;
  codes: string[];
}

/** The recovery codes, shown once, before the sign-in goes on. */
export function recoveryCodesPage({ action, csrf, enrollmentToken, codes }: RecoveryCodesPageProps): Page {
  return layout(
    'Recovery codes',
    `<h1>Save your recovery codes</h1>
<p>Each code works once, in place of a code from your app. Keep them somewhere safe: they are shown only now.</p>
<ul id="recovery-codes">${codes.map((code) => `<li><code>${escapeHtml(code)}</code></li>`).join('')}</ul>
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
  <input type="hidden" name="enrollment_token" value="${escapeHtml(enrollmentToken)}">
  <button type="submit">I have saved them, continue</button>
</form>`,
  );
}
