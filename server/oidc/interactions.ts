// The hosted login and consent pages, at /interaction/:uid. CSRF: the interaction is bound to the browser
// by the provider's SameSite=Lax signed cookie, a cross-origin POST is refused on its Origin header, and
// every form carries an HMAC of the interaction id.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { AppError, INVALID_CREDENTIALS_MESSAGE } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AuthService } from '../services/auth.ts';
import { readCapped } from '../request/body.ts';
import { KoaDeviceCookie } from '../request/device-cookie.ts';
import { requestMeta } from '../request/meta.ts';
import type { LoginGuard } from '../services/login-guard.ts';
import { email, password } from '../common/inputs.ts';
import { consentPage, loginPage, messagePage, sendPage } from './pages.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/;
const FORM_LIMIT = 16 * 1024;

export interface InteractionDeps {
  provider: Provider;
  auth: AuthService;
  loginGuard: LoginGuard;
  config: Config;
  log: Logger;
  secret: string;
}

async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new AppError('INVALID_INPUT', 'Expected a form submission');
  const body = await readCapped(ctx, FORM_LIMIT);
  if (body === undefined) throw new AppError('PAYLOAD_TOO_LARGE', 'Form too large');
  return new URLSearchParams(body.toString('utf8'));
}

const loginForm = z.object({ email, password });

export function createInteractionRoutes({ provider, auth, loginGuard, config, log, secret }: InteractionDeps): Koa.Middleware {
  const origin = new URL(config.publicUrl).origin;
  const csrfFor = (uid: string) => createHmac('sha256', secret).update(`interaction-csrf:${uid}`).digest('base64url');
  const csrfValid = (uid: string, presented: string | null) => {
    const expected = Buffer.from(csrfFor(uid));
    const actual = Buffer.from(presented ?? '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };

  async function clientName(clientId: string): Promise<string> {
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  async function show(ctx: Koa.Context, uid: string, extra: { email?: string; error?: string; status?: number } = {}) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new AppError('NOT_FOUND', 'Unknown interaction');
    const name = await clientName(String(details.params.client_id));
    const csrf = csrfFor(uid);
    if (details.prompt.name === 'login') {
      return sendPage(ctx, loginPage({ action: `/interaction/${uid}/login`, csrf, clientName: name, ...extra }), extra.status);
    }
    const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    const scopes = [...(d.missingOIDCScope ?? []), ...Object.values(d.missingResourceScopes ?? {}).flat()];
    return sendPage(ctx, consentPage({ action: `/interaction/${uid}/confirm`, abortAction: `/interaction/${uid}/abort`, csrf, clientName: name, scopes: [...new Set(scopes)] }));
  }

  async function finish(ctx: Koa.Context, result: Parameters<Provider['interactionResult']>[2]) {
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  }

  async function login(ctx: Koa.Context, uid: string, form: URLSearchParams) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid || details.prompt.name !== 'login') return show(ctx, uid);
    const parsed = loginForm.safeParse({ email: form.get('email') ?? '', password: form.get('password') ?? '' });
    const email = form.get('email')?.slice(0, 254) ?? '';
    if (!parsed.success) return show(ctx, uid, { email, error: 'Enter a valid email address and password.', status: 400 });
    const meta = requestMeta(ctx);
    const clientId = String(details.params.client_id);
    try {
      // The same counters as auth.login: a guesser gains nothing by switching doors.
      const user = await loginGuard.run(parsed.data.email, meta, new KoaDeviceCookie(ctx), { clientId }, async () => {
        const found = await auth.authenticate(parsed.data, meta, { clientId, via: 'hosted_login' });
        await auth.recordSignIn(found.id, meta, { clientId, via: 'hosted_login' });
        return found;
      });
      return await finish(ctx, { login: { accountId: user.id } });
    } catch (error) {
      if (error instanceof AppError && error.code === 'INVALID_CREDENTIALS') {
        return show(ctx, uid, { email: parsed.data.email, error: INVALID_CREDENTIALS_MESSAGE, status: 401 });
      }
      if (error instanceof AppError && error.code === 'RATE_LIMITED') {
        if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
        return show(ctx, uid, { email: parsed.data.email, error: error.message, status: 429 });
      }
      throw error;
    }
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
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    return finish(ctx, { consent: { grantId } });
  }

  return async (ctx, next) => {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match as unknown as [string, string, string | undefined];
    try {
      if (ctx.method === 'GET' && !action) return await show(ctx, uid);
      if (ctx.method !== 'POST' || !action) {
        ctx.status = 405;
        return;
      }
      const from = ctx.get('origin');
      if (from && from !== origin) return sendPage(ctx, messagePage('Request refused', 'This form was submitted from another site.'), 403);
      const form = await readForm(ctx);
      if (!csrfValid(uid, form.get('csrf'))) return sendPage(ctx, messagePage('Request refused', 'This form has expired. Go back and try again.'), 403);
      if (action === 'login') return await login(ctx, uid, form);
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
