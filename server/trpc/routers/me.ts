import { endSession, listUserSessions, sessionBelongsTo, sessionKeyOf } from '../../services/sessions.ts';
import { toUserWithProfile, updateProfile } from '../../services/users.ts';
import { AppError } from '../../errors.ts';
import { sessionView, successView, userWithProfileView } from '../../views.ts';
import { authedProcedure, router, z } from '../init.ts';
import { name, password, sessionId } from '../inputs.ts';

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

export const meRouter = router({
  get: authedProcedure
    .meta({ openapi: { method: 'GET', path: '/auth/me', tags, summary: 'The signed-in user, with profile', errorResponses: [401] } })
    .output(userWithProfileView)
    .query(({ ctx }) => toUserWithProfile(ctx.user, ctx.access.roles)),

  update: authedProcedure
    .meta({
      openapi: { method: 'PUT', path: '/auth/me', tags, summary: 'Update the profile', description: 'Profile fields only; `null` clears one.', errorResponses: [400, 401] },
    })
    .input(profileInput)
    .output(userWithProfileView)
    .mutation(async ({ ctx, input }) => {
      const changes = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
      const row = Object.keys(changes).length > 0 ? await updateProfile(ctx.deps.database.db, ctx.user.id, changes) : ctx.user;
      return toUserWithProfile(row, ctx.access.roles);
    }),

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
      const result = await ctx.deps.auth.changePassword(ctx.user.id, ctx.auth.sid, input, ctx.meta);
      await attempt.succeeded();
      return result;
    }),

  sessions: router({
    list: authedProcedure
      .meta({ openapi: { method: 'GET', path: '/auth/me/sessions', tags, summary: 'The live sessions of the signed-in user', errorResponses: [401] } })
      .output(z.array(sessionView))
      .query(({ ctx }) => listUserSessions(ctx.deps.database.db, ctx.user.id, sessionKeyOf(ctx.auth.sid))),

    revoke: authedProcedure
      .meta({ openapi: { method: 'DELETE', path: '/auth/me/sessions/{id}', tags, summary: 'End one session of the signed-in user', errorResponses: [400, 401, 404] } })
      .input(z.strictObject({ id: sessionId }))
      .output(successView)
      .mutation(async ({ ctx, input }) => {
        const { db } = ctx.deps.database;
        // Another user's session id is answered exactly like an unknown one.
        if (!(await sessionBelongsTo(db, input.id, ctx.user.id))) throw new AppError('NOT_FOUND', 'Session not found');
        await endSession(db, input.id);
        await ctx.deps.audit.record({ type: 'session_revoked', success: true, userId: ctx.user.id, actorId: ctx.user.id, metadata: { session: input.id }, ...ctx.meta });
        return { success: true as const };
      }),
  }),
});
