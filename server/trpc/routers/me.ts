import type { Self } from '../../services/account.ts';
import { anyMfaCode, email, name, password, sessionId, totpCode } from '../../common/inputs.ts';
import { recoveryCodesView, sessionView, successView, totpEnrollmentView, userWithProfileView } from '../../common/outputs.ts';
import type { Context } from '../context.ts';
import { authedProcedure, enrollingProcedure, router, z } from '../init.ts';

const tags = ['Account'];

const optionalText = (max: number) => z.string().trim().min(1, 'Must not be empty').max(max, 'Too long').nullable().optional();

const timeZones = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);

// Strict: roles, isActive, email, emailVerified and anything else unknown are refused.
const profileInput = z.strictObject({
  name: name.nullable().optional(),
  givenName: optionalText(100),
  familyName: optionalText(100),
  picture: z.url({ protocol: /^https$/, message: 'Must be an https URL' }).max(2048, 'Too long').nullable().optional(),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'Must be a language tag such as en or pt-BR')
    .max(35)
    .nullable()
    .optional(),
  zoneinfo: z.string().refine((tz) => timeZones.has(tz), 'Must be an IANA time zone such as Europe/Paris').nullable().optional(),
});

const self = (ctx: Context & { user: Self['user']; access: { roles: string[] }; auth: { sid: string } }): Self => ({
  user: ctx.user,
  roles: ctx.access.roles,
  sid: ctx.auth.sid,
  meta: ctx.meta,
});

export const meRouter = router({
  get: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/auth/me', tags, summary: 'The signed-in user, with profile', errorResponses: [401] } })
    .output(userWithProfileView)
    .query(({ ctx }) => ctx.deps.account.profile(self(ctx))),

  update: authedProcedure
    .meta({
      openapi: { method: 'PUT', path: '/auth/me', tags, summary: 'Update the profile', description: 'Profile fields only; `null` clears one.', errorResponses: [400, 401] },
    })
    .input(profileInput)
    .output(userWithProfileView)
    .mutation(({ ctx, input }) => ctx.deps.account.updateProfile(self(ctx), input)),

  changePassword: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/change-password',
        tags,
        summary: 'Change the password',
        description: 'Needs the current password; ends every other session.',
        errorResponses: [400, 401, 429],
      },
    })
    .input(z.strictObject({ currentPassword: password, newPassword: password }))
    .output(successView)
    .mutation(async ({ ctx, input }) => {
      const attempt = await ctx.deps.rateLimits.changePassword.begin(ctx.user.id, ctx.meta, { userId: ctx.user.id });
      const result = await ctx.deps.account.changePassword(self(ctx), input);
      await attempt.succeeded();
      return result;
    }),

  changeEmail: authedProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/change-email',
        tags,
        summary: 'Change the email address',
        description: 'Needs the current password. Mails a confirmation link to the new address and a notice to the old one; the address changes when the link is used.',
        errorResponses: [400, 401, 409, 429],
      },
    })
    .input(z.strictObject({ newEmail: email, currentPassword: password }))
    .output(successView)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.rateLimits.changeEmail.begin(ctx.user.id, ctx.meta, { userId: ctx.user.id });
      return ctx.deps.account.changeEmail(self(ctx), input);
    }),

  sessions: router({
    list: authedProcedure
      .meta({ openapi: { method: 'GET', path: '/auth/me/sessions', tags, summary: 'The live sessions of the signed-in user', errorResponses: [401] } })
      .output(z.array(sessionView))
      .query(({ ctx }) => ctx.deps.account.sessions(self(ctx))),

    revoke: authedProcedure
      .meta({ openapi: { method: 'DELETE', path: '/auth/me/sessions/{id}', tags, summary: 'End one session of the signed-in user', errorResponses: [400, 401, 404] } })
      .input(z.strictObject({ id: sessionId }))
      .output(successView)
      .mutation(({ ctx, input }) => ctx.deps.account.revokeSession(self(ctx), input.id)),
  }),

  mfa: router({
    totp: router({
      begin: enrollingProcedure
        .meta({
          openapi: {
            method: 'POST',
            path: '/auth/me/mfa/totp/begin',
            tags,
            summary: 'Start enrolling an authenticator app',
            description: 'A new secret, as text, an otpauth:// URL and a QR code (SVG). It is not on until confirmed. Takes an access token or the enrolment token of a sign-in.',
            errorResponses: [401, 409],
          },
        })
        .output(totpEnrollmentView)
        .mutation(({ ctx }) => ctx.deps.mfa.begin(ctx.user)),

      confirm: enrollingProcedure
        .meta({
          openapi: {
            method: 'POST',
            path: '/auth/me/mfa/totp/confirm',
            tags,
            summary: 'Turn the second factor on with a first code',
            description: 'Answers the 10 recovery codes, shown once. With an enrolment token, also the tokens of the sign-in that asked for it.',
            errorResponses: [400, 401, 409, 429],
          },
        })
        .input(z.strictObject({ code: totpCode }))
        .output(recoveryCodesView)
        .mutation(async ({ ctx, input }) => {
          const recoveryCodes = await ctx.deps.mfa.confirm(ctx.user.id, input.code, ctx.meta);
          if (!ctx.enrollmentToken) return { recoveryCodes };
          return { recoveryCodes, tokens: await ctx.deps.auth.finishEnrollment(ctx.enrollmentToken, ctx.meta) };
        }),
    }),

    disable: authedProcedure
      .meta({
        openapi: {
          method: 'POST',
          path: '/auth/me/mfa/disable',
          tags,
          summary: 'Turn the second factor off',
          description: 'Needs the current password and a code (or a recovery code).',
          errorResponses: [400, 401, 409, 429],
        },
      })
      .input(z.strictObject({ currentPassword: password, code: anyMfaCode }))
      .output(successView)
      .mutation(({ ctx, input }) => ctx.deps.mfa.disable(ctx.user.id, input, ctx.meta)),

    recoveryCodes: router({
      regenerate: authedProcedure
        .meta({
          openapi: {
            method: 'POST',
            path: '/auth/me/mfa/recovery-codes',
            tags,
            summary: 'Replace the recovery codes',
            description: 'Needs a code (or a recovery code). The old codes stop working.',
            errorResponses: [400, 401, 409, 429],
          },
        })
        .input(z.strictObject({ code: anyMfaCode }))
        .output(recoveryCodesView)
        .mutation(async ({ ctx, input }) => ({ recoveryCodes: await ctx.deps.mfa.regenerateRecoveryCodes(ctx.user.id, input.code, ctx.meta) })),
    }),
  }),
});
