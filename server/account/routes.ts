// /account/*: the pages mailed links open. GET shows a form and changes nothing; the form's POST uses
// the token. A POST from another origin is refused; a page that sends no referrer posts `Origin: null`,
// accepted where the form carries the token, which no cross-site attacker has.
import type Koa from 'koa';
import type { Config } from '../config.ts';
import { AppError, ERROR_STATUS } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { email, password, token } from '../common/inputs.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import { messagePage, sendPage, type Page } from '../common/page.ts';
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

interface AccountPage {
  get(ctx: Koa.Context): Promise<void> | void;
  post(ctx: Koa.Context, form: URLSearchParams): Promise<void>;
  /** Its form posts the mailed token back. */
  carriesToken?: true;
}

export function createAccountRoutes({ recovery, rateLimits, config, log }: AccountRouteDeps): Koa.Middleware {
  const origin = new URL(config.publicUrl).origin;
  const linkToken = (value: unknown) => token.safeParse(value).data;

  /** A link whose page is one button: GET shows it, its POST uses the token. */
  const confirmByLink = (form: (props: { token: string }) => Page, use: (token: string, meta: RequestMeta) => Promise<unknown>, done: () => Page): AccountPage => ({
    carriesToken: true,
    get(ctx) {
      const value = linkToken(ctx.query.token);
      return value ? sendPage(ctx, form({ token: value })) : sendPage(ctx, messagePage('Link invalid', INVALID_LINK), 400);
    },
    async post(ctx, body) {
      await use(body.get('token') ?? '', requestMeta(ctx));
      sendPage(ctx, done());
    },
  });

  /** A form that asks for an address and mails it: the same answer whoever holds the address. */
  type AddressForm = (props: { returnTo?: string | undefined; email?: string; error?: string }) => Page;
  const mailOnRequest = (form: AddressForm, send: (address: string, meta: RequestMeta, returnTo: string | undefined) => Promise<void>): AccountPage => ({
    get(ctx) {
      sendPage(ctx, form({ returnTo: returnToOf(ctx.query.return_to as string | undefined) }));
    },
    async post(ctx, body) {
      const returnTo = returnToOf(body.get('return_to'));
      const parsed = email.safeParse(body.get('email') ?? '');
      if (!parsed.success) return sendPage(ctx, form({ returnTo, email: body.get('email')?.slice(0, 254) ?? '', error: 'Enter a valid email address.' }), 400);
      await send(parsed.data, requestMeta(ctx), returnTo);
      sendPage(ctx, donePage('Check your mail', SENT, returnTo, 'Back to sign-in'));
    },
  });

  const pages: Record<string, AccountPage> = {
    '/account/verify-email': confirmByLink(verifyEmailPage, recovery.verifyEmail, () => donePage('Email verified', 'Your email address is verified. You can close this page.')),

    '/account/confirm-email': confirmByLink(
      confirmEmailPage,
      recovery.confirmEmailChange,
      () => donePage('Email changed', 'Your account now uses its new address. Sign in with it from now on.'),
    ),

    '/account/forgot-password': mailOnRequest(forgotPasswordPage, async (address, meta, returnTo) => {
      await rateLimits.passwordReset.begin(address, meta);
      await recovery.requestPasswordReset(address, meta, { returnTo });
    }),

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

    '/account/resend-verification': mailOnRequest(resendVerificationPage, async (address, meta) => {
      await rateLimits.resendVerification.begin(address, meta);
      await recovery.resendVerification({ email: address });
    }),
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

