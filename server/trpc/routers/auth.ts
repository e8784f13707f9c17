import { loginResultView, mfaEnrollmentView, successView, tokenSetView, verifyResultView } from '../../common/outputs.ts';
import { AppError } from '../../errors.ts';
import { authedProcedure, bearerToken, publicProcedure, router, signedInCaller, z } from '../init.ts';
import { email, name, password, recoveryCode, resource, token, totpCode } from '../../common/inputs.ts';

const tags = ['Sign-in'];

export const authRouter = router({
  register: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/register',
        protect: false,
        tags,
        summary: 'Create an account and sign in',
        description: 'Under MFA_REQUIRED_ROLES=user the answer is an enrolment (`mfaEnrollmentRequired`) instead of tokens.',
        errorResponses: [400, 409],
      },
      created: true,
    })
    .input(z.strictObject({ email, password, name: name.optional() }))
    .output(z.union([tokenSetView, mfaEnrollmentView]))
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.rateLimits.register.begin('', ctx.meta);
      const tokens = await ctx.deps.auth.register(input, ctx.meta);
      ctx.deps.loginGuard.remember(input.email, ctx.device);
      return tokens;
    }),

  login: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/login',
        protect: false,
        tags,
        summary: 'Sign in with email and password',
        description:
          'A wrong password, an unknown email and a disabled account all get the same 401. An account with a second factor gets a challenge (`mfaRequired`) to answer at /auth/mfa/verify; one that MFA_REQUIRED_ROLES obliges to enrol gets `mfaEnrollmentRequired` with a token for /auth/me/mfa/totp/*.',
        errorResponses: [400, 401, 429],
      },
    })
    .input(z.strictObject({ email, password, resource: resource.optional() }))
    .output(loginResultView)
    .mutation(async ({ ctx, input }) => {
      // Keyed by the email as typed (normalized), known or not: a refusal says nothing about it.
      return ctx.deps.loginGuard.run(input.email, ctx.meta, ctx.device, {}, () => ctx.deps.auth.login(input, ctx.meta));
    }),

  verifyMfa: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/mfa/verify',
        protect: false,
        tags,
        summary: 'Answer a sign-in challenge with a code',
        description:
          'Give `code` (the 6 digits of the authenticator app) or `recoveryCode`. The challenge is single use, lives 5 minutes and allows 5 wrong codes; a wrong code, a spent or expired challenge all get the same 401.',
        errorResponses: [400, 401, 429],
      },
    })
    .input(
      z
        .strictObject({ mfaToken: token, code: totpCode.optional(), recoveryCode: recoveryCode.optional() })
        .refine((input) => (input.code === undefined) !== (input.recoveryCode === undefined), { message: 'Give either code or recoveryCode', path: ['code'] }),
    )
    .output(tokenSetView)
    .mutation(({ ctx, input }) => ctx.deps.auth.verifyMfa(input.mfaToken, input, ctx.meta)),

  refresh: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/refresh',
        protect: false,
        tags,
        summary: 'Trade a refresh token for new tokens',
        description:
          'The refresh token is rotated: use the new one next time. Using an old one again ends the session. With `resource`, the access token is for that API resource; the session stays the same.',
        errorResponses: [400, 401],
      },
    })
    .input(z.strictObject({ refreshToken: token, resource: resource.optional() }))
    .output(tokenSetView)
    // Limited as a request to /oidc/token, which it is (server/oidc/token-events.ts).
    .mutation(({ ctx, input }) => ctx.deps.auth.refresh(input.refreshToken, ctx.meta, input.resource)),

  logout: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/logout',
        protect: false,
        tags,
        summary: 'End a session',
        description: 'Ends the session of the refresh token given or, with no body, of the bearer access token. Always a success.',
        errorResponses: [400],
      },
    })
    .input(z.strictObject({ refreshToken: token.optional() }).optional())
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.auth.logout({ refreshToken: input?.refreshToken, accessToken: bearerToken(ctx) }, ctx.meta)),

  logoutAll: authedProcedure
    .meta({ openapi: { method: 'POST', path: '/auth/logout-all', tags, summary: 'End every session of the signed-in user', errorResponses: [401] } })
    .output(successView)
    .mutation(({ ctx }) => ctx.deps.auth.logoutAll(ctx.user.id, ctx.meta)),

  verify: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/verify',
        protect: false,
        tags,
        summary: 'Check an access token',
        description: 'Checks signature, expiry, audience and that the session still lives.',
        errorResponses: [400],
      },
    })
    .input(z.strictObject({ token }))
    .output(verifyResultView)
    .mutation(({ ctx, input }) => ctx.deps.rateLimits.verify.run('', ctx.meta, () => ctx.deps.auth.verify(input.token), (result) => result.active)),

  requestPasswordReset: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/password-reset/request',
        protect: false,
        tags,
        summary: 'Mail a password-reset link',
        description: 'The same answer, in the same time, whether or not the address has an account. The link works 30 minutes.',
        errorResponses: [400, 429],
      },
    })
    .input(z.strictObject({ email }))
    .output(successView)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.rateLimits.passwordReset.begin(input.email, ctx.meta);
      return ctx.deps.recovery.requestPasswordReset(input.email, ctx.meta);
    }),

  resetPassword: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/password-reset',
        protect: false,
        tags,
        summary: 'Set a new password with a mailed reset token',
        description: 'Ends every session of the user.',
        errorResponses: [400],
      },
    })
    .input(z.strictObject({ token, newPassword: password }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.recovery.resetPassword(input.token, input.newPassword, ctx.meta)),

  verifyEmail: publicProcedure
    .meta({ openapi: { method: 'POST', path: '/auth/verify-email', protect: false, tags, summary: 'Verify the address with a mailed token', errorResponses: [400] } })
    .input(z.strictObject({ token }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.recovery.verifyEmail(input.token, ctx.meta)),

  resendVerification: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/verify-email/resend',
        protect: false,
        tags,
        summary: 'Mail a new verification link',
        description: "To the signed-in user's address (bearer), or to `email`: the same answer whether or not it has an unverified account.",
        errorResponses: [400, 401, 429],
      },
    })
    .input(z.strictObject({ email: email.optional() }).optional())
    .output(successView)
    .mutation(async ({ ctx, input }) => {
      if (input?.email) {
        await ctx.deps.rateLimits.resendVerification.begin(input.email, ctx.meta);
        return ctx.deps.recovery.resendVerification({ email: input.email });
      }
      const bearer = await signedInCaller(ctx);
      if (!bearer) throw new AppError('INVALID_TOKEN', 'Sign in, or give the email address');
      await ctx.deps.rateLimits.resendVerification.begin(bearer.user.email, ctx.meta, { userId: bearer.user.id });
      return ctx.deps.recovery.resendVerification({ userId: bearer.user.id });
    }),

  confirmEmailChange: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/confirm-email-change',
        protect: false,
        tags,
        summary: 'Move the account to a new address with the mailed token',
        description: 'Answers 409 if another account took the address meanwhile.',
        errorResponses: [400, 409],
      },
    })
    .input(z.strictObject({ token }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.recovery.confirmEmailChange(input.token, ctx.meta)),
});
