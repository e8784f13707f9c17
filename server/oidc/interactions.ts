// The hosted sign-in, sign-up and consent pages, at /interaction/:uid. CSRF: the interaction is bound to the browser
// by the provider's SameSite=Lax signed cookie, a cross-origin POST is refused on its Origin header, and
// every form carries an HMAC of the interaction id.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { AppError, EMAIL_NOT_VERIFIED_MESSAGE, INVALID_CREDENTIALS_MESSAGE } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { amrOfFactor, factorOf, type AuthService, type SignInFactor } from '../services/auth.ts';
import { INVALID_MFA_MESSAGE, type MfaService } from '../services/mfa.ts';
import { readForm } from '../request/body.ts';
import { KoaDeviceCookie } from '../request/device-cookie.ts';
import { requestMeta } from '../request/meta.ts';
import type { LoginGuard } from '../services/login-guard.ts';
import type { RateLimits } from '../services/rate-limits/limiter.ts';
import { anyMfaCode, email, isTotpCode, name, password, totpCode } from '../common/inputs.ts';
import { messagePage, sendPage } from '../common/page.ts';
import { OIDC_SCOPES } from '../common/permissions.ts';
import { consentPage, enrollPage, loginPage, mfaPage, recoveryCodesPage, signUpPage } from './pages.ts';
import { acrOf } from './provider.ts';

const OIDC_SCOPE_SET = new Set<string>(OIDC_SCOPES);

/** GET: the page (or, with `signup`/`signin`, that form); POST: login, register, the second factor
 *  (mfa, enroll, continue), confirm, abort. */
const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|register|signup|signin|mfa|enroll|continue|confirm|abort))?$/;
const SHOW = new Set([undefined, 'signup', 'signin']);

export interface InteractionDeps {
  provider: Provider;
  auth: AuthService;
  mfa: MfaService;
  loginGuard: LoginGuard;
  rateLimits: RateLimits;
  config: Config;
  log: Logger;
  /** The cookie secrets, the signing one first; a rotation replaces them in place. */
  secrets: readonly string[];
}

const loginForm = z.object({ email, password });
const signUpForm = z.object({ email, password, name: name.optional() });

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The login and create prompts both ask who the user is: either form answers them. */
const asksForAccount = (details: Details) => details.prompt.name === 'login' || details.prompt.name === 'create';

/** prompt=create is resolved by any sign-in, so that the flow moves on to consent; amr and acr go into the id_token. */
const accountResult = (details: Details, accountId: string, factor: SignInFactor) => ({
  login: { accountId, amr: amrOfFactor(factor), acr: acrOf(amrOfFactor(factor)) },
  ...(details.prompt.name === 'create' ? { create: { accountId } } : {}),
});

const tokenField = z.string().min(1).max(128);

export function createInteractionRoutes({ provider, auth, mfa, loginGuard, rateLimits, config, log, secrets }: InteractionDeps): Koa.Middleware {
  const origin = new URL(config.publicUrl).origin;
  const csrfFor = (uid: string, secret = secrets[0]!) => createHmac('sha256', secret).update(`interaction-csrf:${uid}`).digest('base64url');
  // A page shown before a rotation is posted after it: any secret still verifying will do.
  const csrfValid = (uid: string, presented: string | null) => {
    const actual = Buffer.from(presented ?? '');
    return secrets.some((secret) => {
      const expected = Buffer.from(csrfFor(uid, secret));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  };

  async function clientNameOf(clientId: string): Promise<string> {
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  interface ShowOptions {
    view?: 'signup' | 'signin' | undefined;
    email?: string;
    name?: string;
    error?: string;
    resend?: boolean;
    status?: number;
  }

  async function show(ctx: Koa.Context, uid: string, { view, status, ...form }: ShowOptions = {}) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new AppError('NOT_FOUND', 'Unknown interaction');
    const clientName = await clientNameOf(String(details.params.client_id));
    const csrf = csrfFor(uid);
    const base = `/interaction/${uid}`;
    if (asksForAccount(details)) {
      const signUp = view === 'signup' || (view === undefined && details.prompt.name === 'create');
      const page = signUp
        ? signUpPage({ action: `${base}/register`, csrf, clientName, signInHref: `${base}/signin`, ...form })
        : loginPage({ action: `${base}/login`, csrf, clientName, returnTo: base, signUpHref: `${base}/signup`, ...form });
      return sendPage(ctx, page, status);
    }
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    const { scopes, permissions } = await consentOf(details.session?.accountId, d);
    return sendPage(ctx, consentPage({ action: `${base}/confirm`, abortAction: `${base}/abort`, csrf, clientName, scopes, permissions }));
  }

  /** What the consent asks for: OIDC scopes and `api`, and the permissions asked for as scopes that the
   *  user holds, in words. A permission the user does not hold is not offered, and is left out of the token. */
  async function consentOf(accountId: string | undefined, d: { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> }) {
    const requested = Object.values(d.missingResourceScopes ?? {}).flat();
    const held = accountId ? await auth.heldPermissions(accountId, requested) : new Map<string, string | null>();
    const scopes = [...new Set([...(d.missingOIDCScope ?? []), ...requested.filter((s) => OIDC_SCOPE_SET.has(s))])];
    const permissions = [...held].map(([name, description]) => ({ name, description }));
    return { scopes, permissions, held };
  }

  async function finish(ctx: Koa.Context, result: Parameters<Provider['interactionResult']>[2]) {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function login(ctx: Koa.Context, uid: string, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || !asksForAccount(details)) return show(ctx, uid);
    const parsed = loginForm.safeParse({ email: form.get('email') ?? '', password: form.get('password') ?? '' });
    const email = form.get('email')?.slice(0, 254) ?? '';
    if (!parsed.success) return show(ctx, uid, { view: 'signin', email, error: 'Enter a valid email address and password.', status: 400 });
    const meta = requestMeta(ctx);
    const clientId = String(details.params.client_id);
    try {
      // The same counters as auth.login: a guesser gains nothing by switching doors.
      const user = await loginGuard.run(parsed.data.email, meta, new KoaDeviceCookie(ctx), { clientId }, () =>
        auth.authenticate(parsed.data, meta, { clientId, via: 'hosted_login' }),
      );
      const next = await mfa.afterPassword(user, { interactionUid: uid });
      if (next && 'mfaRequired' in next) return await showMfa(ctx, uid, clientId, { mfaToken: next.mfaToken, recoveryCodes: next.methods.includes('recovery_code') });
      if (next) return await showEnroll(ctx, uid, clientId, next.enrollmentToken, await mfa.begin(user));
      await auth.recordSignIn(user.id, meta, { clientId, via: 'hosted_login' });
      return await finish(ctx, accountResult(details, user.id, 'pwd'));
    } catch (error) {
      if (error instanceof AppError && error.code === 'INVALID_CREDENTIALS') {
        return show(ctx, uid, { view: 'signin', email: parsed.data.email, error: INVALID_CREDENTIALS_MESSAGE, status: 401 });
      }
      if (error instanceof AppError && error.code === 'EMAIL_NOT_VERIFIED') {
        return show(ctx, uid, { view: 'signin', email: parsed.data.email, error: EMAIL_NOT_VERIFIED_MESSAGE, resend: true, status: 403 });
      }
      return refusedForm(ctx, uid, error, { view: 'signin', email: parsed.data.email });
    }
  }

  /** A limit refusal shown on the form that was sent; anything else goes on up. */
  function refusedForm(ctx: Koa.Context, uid: string, error: unknown, form: ShowOptions) {
    if (!(error instanceof AppError && error.code === 'RATE_LIMITED')) throw error;
    if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
    return show(ctx, uid, { ...form, error: error.message, status: 429 });
  }

  /** Sign-up as auth.register does it: the same policy, limit, verification mail and audit. */
  async function register(ctx: Koa.Context, uid: string, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || !asksForAccount(details)) return show(ctx, uid);
    const typed = { email: form.get('email')?.slice(0, 254) ?? '', name: form.get('name')?.slice(0, 200) ?? '' };
    const parsed = signUpForm.safeParse({ email: form.get('email') ?? '', password: form.get('password') ?? '', name: form.get('name') || undefined });
    if (!parsed.success) {
      const field = String(parsed.error.issues[0]?.path[0] ?? 'email');
      const error = field === 'password' ? `Password: ${parsed.error.issues[0]?.message}` : field === 'name' ? `Name: ${parsed.error.issues[0]?.message}` : 'Enter a valid email address.';
      return show(ctx, uid, { view: 'signup', ...typed, error, status: 400 });
    }
    const meta = requestMeta(ctx);
    const clientId = String(details.params.client_id);
    let user;
    try {
      await rateLimits.register.begin('', meta);
      user = await auth.createAccount(parsed.data, meta, { clientId, via: 'hosted_signup' });
    } catch (error) {
      if (error instanceof AppError && (error.code === 'WEAK_PASSWORD' || error.code === 'EMAIL_TAKEN')) {
        const reason = Object.values(error.details.fieldErrors ?? {}).flat()[0];
        const message = error.code === 'EMAIL_TAKEN' ? 'An account with this email already exists. Sign in instead.' : `Password: ${reason ?? error.message}`;
        return show(ctx, uid, { view: 'signup', ...typed, error: message, status: error.code === 'EMAIL_TAKEN' ? 409 : 400 });
      }
      return refusedForm(ctx, uid, error, { view: 'signup', ...typed });
    }
    loginGuard.remember(parsed.data.email, new KoaDeviceCookie(ctx));
    if (config.emailVerification === 'required') {
      return sendPage(
        ctx,
        messagePage('Check your mail', `We have sent a link to ${parsed.data.email}. Open it to verify your address, then sign in.`),
      );
    }
    const enrolment = await mfa.afterPassword(user, { interactionUid: uid });
    if (enrolment && 'enrollmentToken' in enrolment) return showEnroll(ctx, uid, clientId, enrolment.enrollmentToken, await mfa.begin(user));
    await auth.recordSignIn(user.id, meta, { clientId, via: 'hosted_signup' });
    return finish(ctx, accountResult(details, user.id, 'pwd'));
  }

  async function showMfa(ctx: Koa.Context, uid: string, clientId: string, form: { mfaToken: string; recoveryCodes: boolean; error?: string }, status?: number) {
    const page = mfaPage({ action: `/interaction/${uid}/mfa`, csrf: csrfFor(uid), clientName: await clientNameOf(clientId), startOverHref: `/interaction/${uid}/signin`, ...form });
    return sendPage(ctx, page, status);
  }

  async function showEnroll(ctx: Koa.Context, uid: string, clientId: string, enrollmentToken: string, enrolment: { secret: string; qrSvg: string }, error?: string, status?: number) {
    const page = enrollPage({ action: `/interaction/${uid}/enroll`, csrf: csrfFor(uid), clientName: await clientNameOf(clientId), enrollmentToken, secret: enrolment.secret, qrSvg: enrolment.qrSvg, ...(error ? { error } : {}) });
    return sendPage(ctx, page, status);
  }

  /** A sign-in whose second step cannot go on: back to the start, as for an expired page. */
  function startOver(ctx: Koa.Context, uid: string) {
    return show(ctx, uid, { view: 'signin', error: 'This sign-in has expired. Sign in again.', status: 400 });
  }

  /** The code of a sign-in with a factor: a wrong code, a spent or expired challenge read alike. */
  async function answerMfa(ctx: Koa.Context, uid: string, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || !asksForAccount(details)) return show(ctx, uid);
    const clientId = String(details.params.client_id);
    const token = tokenField.safeParse(form.get('mfa_token'));
    if (!token.success) return startOver(ctx, uid);
    const again = { mfaToken: token.data, recoveryCodes: true };
    const code = anyMfaCode.safeParse(form.get('code') ?? '');
    if (!code.success) return showMfa(ctx, uid, clientId, { ...again, error: 'Enter the 6 digits your app shows, or a recovery code.' }, 400);
    const answer = isTotpCode(code.data) ? { code: code.data } : { recoveryCode: code.data };
    const meta = requestMeta(ctx);
    try {
      const { user, method } = await mfa.answer(token.data, answer, meta, { interactionUid: uid });
      await auth.recordSignIn(user.id, meta, { clientId, via: 'hosted_login' }, factorOf(method));
      return await finish(ctx, accountResult(details, user.id, factorOf(method)));
    } catch (error) {
      if (error instanceof AppError && error.code === 'INVALID_TOKEN') {
        return showMfa(ctx, uid, clientId, { ...again, error: `${INVALID_MFA_MESSAGE}. Try again, or start over.` }, 401);
      }
      if (error instanceof AppError && error.code === 'RATE_LIMITED') {
        if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
        return showMfa(ctx, uid, clientId, { ...again, error: error.message }, 429);
      }
      throw error;
    }
  }

  /** Enrolment that MFA_REQUIRED_ROLES asks for: the first code turns the factor on, then the recovery codes. */
  async function enroll(ctx: Koa.Context, uid: string, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || !asksForAccount(details)) return show(ctx, uid);
    const clientId = String(details.params.client_id);
    const token = tokenField.safeParse(form.get('enrollment_token'));
    const enrolling = token.success ? await mfa.enrollment(token.data, { interactionUid: uid }) : null;
    const pending = enrolling ? await mfa.pendingEnrollment(enrolling.user.id) : null;
    if (!token.success || !enrolling || !pending) return startOver(ctx, uid);
    const code = totpCode.safeParse(form.get('code') ?? '');
    if (!code.success) return showEnroll(ctx, uid, clientId, token.data, pending, 'Enter the 6 digits your app shows.', 400);
    try {
      const codes = await mfa.confirm(enrolling.user.id, code.data, requestMeta(ctx));
      await mfa.markEnrolled(token.data);
      return sendPage(ctx, recoveryCodesPage({ action: `/interaction/${uid}/continue`, csrf: csrfFor(uid), enrollmentToken: token.data, codes }));
    } catch (error) {
      if (error instanceof AppError && (error.code === 'INVALID_INPUT' || error.code === 'RATE_LIMITED')) {
        if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
        return showEnroll(ctx, uid, clientId, token.data, pending, error.code === 'RATE_LIMITED' ? error.message : 'That code is not right. Try the next one.', error.code === 'RATE_LIMITED' ? 429 : 400);
      }
      throw error;
    }
  }

  /** Past the recovery codes: the sign-in goes on, with both factors. */
  async function afterEnrollment(ctx: Koa.Context, uid: string, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || !asksForAccount(details)) return show(ctx, uid);
    const token = tokenField.safeParse(form.get('enrollment_token'));
    const done = token.success ? await mfa.finishEnrollment(token.data, { interactionUid: uid, purpose: 'enrolled' }) : null;
    if (!done) return startOver(ctx, uid);
    await auth.recordSignIn(done.userId, requestMeta(ctx), { clientId: String(details.params.client_id), via: 'hosted_login' }, 'pwd+totp');
    return finish(ctx, accountResult(details, done.userId, 'pwd+totp'));
  }

  async function confirm(ctx: Koa.Context, uid: string) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || details.prompt.name !== 'consent' || !details.session) return show(ctx, uid);
    const { prompt, params, session } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
    if (!grant) throw new AppError('NOT_FOUND', 'Grant not found');
    const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    const { held } = await consentOf(session.accountId, d);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
      const granted = scopes.filter((s) => OIDC_SCOPE_SET.has(s) || held.has(s));
      if (granted.length > 0) grant.addResourceScope(indicator, granted.join(' '));
      const refused = scopes.filter((s) => !granted.includes(s));
      if (refused.length > 0) grant.rejectResourceScope(indicator, refused.join(' '));
    }
    const grantId = await grant.save();
    // prompt=create stays resolved past consent, or the flow would ask for sign-up again.
    const created = (details.lastSubmission as { create?: unknown } | undefined)?.create;
    return finish(ctx, { consent: { grantId }, ...(created ? { create: created } : {}) });
  }

  return async (ctx, next) => {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match as unknown as [string, string, string | undefined];
    try {
      if (ctx.method === 'GET' && SHOW.has(action)) return await show(ctx, uid, { view: action as ShowOptions['view'] });
      if (ctx.method !== 'POST' || SHOW.has(action)) {
        ctx.status = 405;
        return;
      }
      const from = ctx.get('origin');
      if (from && from !== origin) return sendPage(ctx, messagePage('Request refused', 'This form was submitted from another site.'), 403);
      const form = await readForm(ctx);
      if (!csrfValid(uid, form.get('csrf'))) return sendPage(ctx, messagePage('Request refused', 'This form has expired. Go back and try again.'), 403);
      if (action === 'login') return await login(ctx, uid, form);
      if (action === 'register') return await register(ctx, uid, form);
      if (action === 'mfa') return await answerMfa(ctx, uid, form);
      if (action === 'enroll') return await enroll(ctx, uid, form);
      if (action === 'continue') return await afterEnrollment(ctx, uid, form);
      if (action === 'confirm') return await confirm(ctx, uid);
      return await finish(ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'SessionNotFound' || (error instanceof AppError && error.code === 'NOT_FOUND')) {
        return sendPage(ctx, messagePage('Sign-in expired', 'This sign-in page has expired. Return to the application and start again.'), 400);
      }
      if (error instanceof AppError && error.code === 'UNAVAILABLE') {
        return sendPage(ctx, messagePage('Temporarily unavailable', 'Sign-in is unavailable right now. Please try again shortly.'), 503);
      }
      if (error instanceof AppError) {
        return sendPage(ctx, messagePage('Request refused', error.message), error.code === 'PAYLOAD_TOO_LARGE' ? 413 : 400);
      }
      log.error({ err: error, reqId: ctx.state.requestId }, 'interaction failed');
      return sendPage(ctx, messagePage('Something went wrong', 'Please try again.'), 500);
    }
  };
}
