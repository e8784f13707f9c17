// /account/*: the pages mailed links open. GET shows a form and changes nothing; the form's POST uses
// the token. A POST from another origin is refused; a page that sends no referrer posts `Origin: null`,
// accepted where the form carries the token, which no cross-site attacker has.
import type Koa from 'koa';
import type { Config } from '../config.ts';
import { AppError, ERROR_STATUS } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { email, password, token } from '../common/inputs.ts';
import { messagePage, sendPage } from '../common/page.ts';
import { readForm } from '../request/body.ts';
import { requestMeta } from '../request/meta.ts';
import type { RateLimits } from '../services/rate-limits/limiter.ts';
import type { RecoveryService } from '../services/recovery.ts';
import { confirmEmailPage, donePage, forgotPasswordPage, resendVerificationPage, resetPasswordPage, verifyEmailPage } from './pages.ts';

export interface AccountRouteDeps {
  recovery: RecoveryService;
  rateLimits: RateLimits;
  config: Config;
  log: Logger;
}

/** Where a page may send the browser on: back to a sign-in in progress, nowhere else. */
const RETURN_TO = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;
const returnToOf = (value: string | null | undefined) => (value && RETURN_TO.test(value) ? value : undefined);

const INVALID_LINK = 'This link is invalid or has expired. Ask for a new one.';
const SENT = 'If an account uses this address, we have sent it a link. It may take a minute to arrive.';

type Handler = (ctx: Koa.Context, form: URLSearchParams) => Promise<void>;

export function createAccountRoutes({ recovery, rateLimits, config, log }: AccountRouteDeps): Koa.Middleware {
  const origin = new URL(config.publicUrl).origin;
  const linkToken = (value: unknown) => token.safeParse(value).data;

  const pages: Record<string, { get(ctx: Koa.Context): Promise<void> | void; post: Handler; carriesToken?: true }> = {
    '/account/verify-email': {
      carriesToken: true,
      get(ctx) {
        const value = linkToken(ctx.query.token);
        return value ? sendPage(ctx, verifyEmailPage({ token: value })) : sendPage(ctx, messagePage('Link invalid', INVALID_LINK), 400);
      },
      async post(ctx, form) {
        await recovery.verifyEmail(form.get('token') ?? '', requestMeta(ctx));
        sendPage(ctx, donePage('Email verified', 'Your email address is verified. You can close this page.'));
      },
    },

    '/account/confirm-email': {
      carriesToken: true,
      get(ctx) {
        const value = linkToken(ctx.query.token);
        return value ? sendPage(ctx, confirmEmailPage({ token: value })) : sendPage(ctx, messagePage('Link invalid', INVALID_LINK), 400);
      },
      async post(ctx, form) {
        await recovery.confirmEmailChange(form.get('token') ?? '', requestMeta(ctx));
        sendPage(ctx, donePage('Email changed', 'Your account now uses its new address. Sign in with it from now on.'));
      },
    },

    '/account/forgot-password': {
      get(ctx) {
        sendPage(ctx, forgotPasswordPage({ returnTo: returnToOf(ctx.query.return_to as string | undefined) }));
      },
      async post(ctx, form) {
        const returnTo = returnToOf(form.get('return_to'));
        const parsed = email.safeParse(form.get('email') ?? '');
        if (!parsed.success) return sendPage(ctx, forgotPasswordPage({ returnTo, email: form.get('email')?.slice(0, 254) ?? '', error: 'Enter a valid email address.' }), 400);
        const meta = requestMeta(ctx);
        await rateLimits.passwordReset.begin(parsed.data, meta);
        await recovery.requestPasswordReset(parsed.data, meta, { returnTo });
        sendPage(ctx, donePage('Check your mail', SENT, returnTo, 'Back to sign-in'));
      },
    },

    '/account/reset-password': {
      carriesToken: true,
      async get(ctx) {
        const value = linkToken(ctx.query.token);
        if (!value || !(await recovery.resetLinkValid(value))) return sendPage(ctx, messagePage('Link invalid', INVALID_LINK), 400);
        sendPage(ctx, resetPasswordPage({ token: value, returnTo: returnToOf(ctx.query.return_to as string | undefined) }));
      },
      async post(ctx, form) {
        const value = form.get('token') ?? '';
        const returnTo = returnToOf(form.get('return_to'));
        const again = (error: string, status = 400) => sendPage(ctx, resetPasswordPage({ token: value, returnTo, error }), status);
        const parsed = password.safeParse(form.get('password') ?? '');
        if (!parsed.success) return again(parsed.error.issues[0]?.message ?? 'Enter a password.');
        if (form.get('confirm') !== parsed.data) return again('The two passwords differ.');
        try {
          await recovery.resetPassword(value, parsed.data, requestMeta(ctx));
        } catch (error) {
          if (error instanceof AppError && error.code === 'WEAK_PASSWORD') return again(Object.values(error.details.fieldErrors ?? {}).flat()[0] ?? error.message);
          throw error;
        }
        sendPage(ctx, donePage('Password set', 'Your new password is set, and every session of your account has ended. Sign in with the new password.', returnTo));
      },
    },

    '/account/resend-verification': {
      get(ctx) {
        sendPage(ctx, resendVerificationPage({ returnTo: returnToOf(ctx.query.return_to as string | undefined) }));
      },
      async post(ctx, form) {
        const returnTo = returnToOf(form.get('return_to'));
        const parsed = email.safeParse(form.get('email') ?? '');
        if (!parsed.success) return sendPage(ctx, resendVerificationPage({ returnTo, email: form.get('email')?.slice(0, 254) ?? '', error: 'Enter a valid email address.' }), 400);
        await rateLimits.resendVerification.begin(parsed.data, requestMeta(ctx));
        await recovery.resendVerification({ email: parsed.data });
        sendPage(ctx, donePage('Check your mail', SENT, returnTo, 'Back to sign-in'));
      },
    },
  };

  return async (ctx, next) => {
    const page = pages[ctx.path];
    if (!page) return next();
    try {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') return await page.get(ctx);
      if (ctx.method !== 'POST') {
        ctx.status = 405;
        ctx.set('Allow', 'GET, HEAD, POST');
        return;
      }
      const from = ctx.get('origin');
      if (from && from !== origin && !(from === 'null' && page.carriesToken)) return sendPage(ctx, messagePage('Request refused', 'This form was submitted from another site.'), 403);
      return await page.post(ctx, await readForm(ctx));
    } catch (error) {
      if (!(error instanceof AppError)) {
        log.error({ err: error, reqId: ctx.state.requestId }, 'account page failed');
        return sendPage(ctx, messagePage('Something went wrong', 'Please try again.'), 500);
      }
      if (error.details.fieldErrors?.token) return sendPage(ctx, messagePage('Link invalid', INVALID_LINK), 400);
      if (error.code === 'RATE_LIMITED' && error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
      const status = ERROR_STATUS[error.code].http;
      return sendPage(ctx, messagePage(status === 503 ? 'Temporarily unavailable' : 'Request refused', error.message), status);
    }
  };
}

